"""Check a dSprites file before any rule uses it: the official checksum where one is known, and the layout."""

from __future__ import annotations

from pathlib import Path

from dislab.data.download import digest_of, sha256_of, verify_sha256
from dislab.data.loader import DSprites, write_cache
from dislab.errors import DatasetError

HDF5_SUFFIXES = (".hdf5", ".h5")


def verify_npz_md5(path, expected: str) -> None:
    actual = digest_of(path, "md5")
    if actual != expected:
        raise DatasetError(
            f"{path} has md5 {actual}, expected {expected}: it is not the official dSprites NPZ release "
            "(or it is damaged). Replace it with a good copy, or use dataset.source: download."
        )


def check_dataset(path, dataset_config: dict) -> dict:
    path = Path(path)
    source = dataset_config["source"]
    supplied = source == "path"
    if supplied and path.suffix not in (*HDF5_SUFFIXES, ".npz"):
        raise DatasetError(
            f"dataset.path {path} is neither an HDF5 (.hdf5, .h5) nor an NPZ (.npz) file: point it at "
            "the official dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5 or .npz"
        )
    if source in ("download", "path") and path.suffix in HDF5_SUFFIXES:
        verify_sha256(path, dataset_config["sha256"])
    elif supplied:
        verify_npz_md5(path, dataset_config["npz_md5"])
    try:
        data = DSprites.load(path)
    except DatasetError as exc:
        if supplied and hasattr(exc, "problem"):  # the user's own file: replace it, not delete it
            raise DatasetError(
                f"dSprites file {path} (dataset.path) {exc.problem}. Replace it with a good copy of "
                "the official HDF5 or NPZ release."
            ) from None
        raise
    if path.suffix in HDF5_SUFFIXES:
        write_cache(data)
    return {
        "source": source,
        "file": str(path),
        "sha256": sha256_of(path),
        "images": len(data),
        "factor_names": list(data.factor_names),
        "factor_sizes": list(data.factor_sizes),
    }
