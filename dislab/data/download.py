"""Download the official dSprites HDF5 with a progress bar, verified by size and sha256."""

from __future__ import annotations

import hashlib
import http.client
import socket
import urllib.error
import urllib.request
from pathlib import Path

from dislab.atomic import atomic_path
from dislab.errors import DatasetError, DownloadError
from dislab.progress import progress_bar

ALTERNATIVES = (
    "Without network access, either copy the official file to this machine and set "
    "dataset.source: path with dataset.path pointing at it, or set dataset.source: synthetic "
    "to render an offline stand-in."
)
BROKEN_TRANSFER = (OSError, socket.timeout, http.client.HTTPException)


def digest_of(path, algorithm: str = "sha256", block: int = 1 << 20) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path) -> str:
    return digest_of(path, "sha256")


def verify_sha256(path, expected: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise DatasetError(
            f"{path} has sha256 {actual}, expected {expected}: it is not the official dSprites release "
            "(or it is damaged). Replace it with a good copy, or delete it and use dataset.source: download."
        )


def _copy_stream(url, response, out, expected_size, label, progress):
    """Copy the body to ``out``; return (bytes received, sha256 hex)."""
    digest, received = hashlib.sha256(), 0
    with progress_bar(
        total=expected_size, unit="B", unit_scale=True, desc=f"downloading {label}", disable=not progress, mininterval=1
    ) as bar:
        try:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        except BROKEN_TRANSFER as exc:
            raise DownloadError(
                f"the download of {url} broke off after {received} bytes ({exc!r}). Rerun to try again. " + ALTERNATIVES
            ) from exc
    return received, digest.hexdigest()


def download(
    url: str, dest, sha256: str, size: int | None = None, timeout: float = 60.0, progress: bool = True
) -> Path:
    """Fetch ``url`` into ``dest``; the file appears under its final name only once complete and verified."""
    dest = Path(dest)
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, *BROKEN_TRANSFER) as exc:
        raise DownloadError(f"could not download dSprites from {url}: {exc}. {ALTERNATIVES}") from exc
    with response, atomic_path(dest) as tmp, open(tmp, "wb") as out:
        expected_size = size or int(response.headers.get("Content-Length") or 0) or None
        received, actual = _copy_stream(url, response, out, expected_size, dest.name, progress)
        if expected_size and received != expected_size:
            raise DownloadError(
                f"the download of {url} stopped after {received} of {expected_size} bytes. "
                "Rerun to try again. " + ALTERNATIVES
            )
        if actual != sha256:
            raise DownloadError(
                f"the file downloaded from {url} has sha256 {actual}, expected {sha256}; it was deleted. "
                "Rerun to try again, or check dataset.url and dataset.sha256 in the config."
            )
    return dest
