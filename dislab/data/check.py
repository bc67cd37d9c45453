"""Check a dSprites file before any rule uses it: the official checksum where one is known, and the layout."""

from __future__ import annotations

from pathlib import Path

from dislab.data.download import sha256_of, verify_sha256
from dislab.data.loader import DSprites


def check_dataset(path, dataset_config: dict) -> dict:
    path = Path(path)
    source = dataset_config["source"]
    if source in ("download", "path") and path.suffix in (".hdf5", ".h5"):
        verify_sha256(path, dataset_config["sha256"])
    data = DSprites.load(path)
    return {
        "source": source,
        "file": str(path),
        "sha256": sha256_of(path),
        "images": len(data),
        "factor_names": list(data.factor_names),
        "factor_sizes": list(data.factor_sizes),
    }
