"""The download against a server started here on 127.0.0.1 (no outside network)."""

import socket

import pytest
from conftest import PAYLOAD, SHA

from dislab.data.download import download
from dislab.errors import DownloadError


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_happy_path(server, tmp_path):
    out = download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256=SHA, size=len(PAYLOAD), progress=False)
    assert out.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == ["d.hdf5"]


def test_checksum_mismatch_deletes_the_file(server, tmp_path):
    with pytest.raises(DownloadError, match="sha256.*deleted"):
        download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256="0" * 64, progress=False)
    assert _leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_no_partial_file(server, tmp_path):
    with pytest.raises(DownloadError, match="broke off|stopped after"):
        download(f"{server}/broken", tmp_path / "d.hdf5", sha256=SHA, size=len(PAYLOAD), progress=False)
    assert _leftovers(tmp_path) == []
    # a retry succeeds and the final name holds the whole file
    download(f"{server}/file.hdf5", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    assert (tmp_path / "d.hdf5").read_bytes() == PAYLOAD


def test_http_error_and_no_network_name_the_alternatives(server, tmp_path):
    with pytest.raises(DownloadError, match="dataset.source: path.*dataset.source: synthetic"):
        download(f"{server}/missing", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more: connection refused, like a machine offline
    with pytest.raises(DownloadError, match="could not download.*dataset.source: synthetic"):
        download(f"http://127.0.0.1:{port}/d.hdf5", tmp_path / "d.hdf5", sha256=SHA, progress=False)
    assert _leftovers(tmp_path) == []
