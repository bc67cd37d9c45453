"""The one dSprites loader used by every rule.

Images are held bit-packed (8 pixels a byte: 377 MB for the full set instead of 3 GB) and unpacked per
gather. The ground-truth interface the metrics need is ``factor_sizes``, ``sample_factors(n, rng)`` and
``images_from_factors(factors)``; factors are the class indices of shape, scale, orientation, posX, posY.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import h5py
import numpy as np

from dislab.data.grid import FACTOR_NAMES, LATENT_FACTOR_COLUMNS, FactorGrid, sample_factors
from dislab.data.render import IMAGE_SIZE
from dislab.errors import DatasetError, DiskFullError

READ_CHUNK = 23040  # images per read: one row of the official file's chunks
CACHE_VERSION = 1

log = logging.getLogger(__name__)


def _fail(path, problem: str):
    """A file the workflow made (downloaded or rendered): delete it and rerun. dislab.data.check words it for a file
    the user supplied."""
    error = DatasetError(
        f"dSprites file {path} {problem}. Delete it and rerun to fetch or render it again, "
        "or point dataset.path at a good copy of the official HDF5 or NPZ release."
    )
    error.problem = problem
    raise error


class DSprites:
    """dSprites in memory: packed images, factor classes and values, and the ground-truth interface."""

    def __init__(self, packed: np.ndarray, classes: np.ndarray, values: np.ndarray, path=None, standin=False):
        self.packed = packed  # (N, 64, 8) uint8
        self.standin = standin  # rendered by dislab (the file says so), not DeepMind's release
        self.classes = classes  # (N, 6) int64, file order
        self.values = values  # (N, 6) float64
        self.path = path
        self.grid = FactorGrid(tuple(int(s) for s in classes.max(axis=0) + 1))
        self.bases = self.grid.bases

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def load(cls, path) -> DSprites:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(
                f"dSprites file {path} does not exist. Set dataset.source to 'download' or 'synthetic', "
                "or point dataset.path at a copy of the official release."
            )
        standin = False
        if path.suffix == ".npz":
            packed, classes, values = _read_npz(path)
        elif (cached := _read_cache(path)) is not None:
            packed, classes, values, standin = cached
        else:
            packed, classes, values, standin = _read_hdf5(path)
        _check_factors(path, classes, values, len(packed))
        return cls(packed, classes, values, path, standin=standin)

    # -- sizes and names --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.packed)

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(FACTOR_NAMES[c] for c in LATENT_FACTOR_COLUMNS)

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return tuple(self.grid.sizes[c] for c in LATENT_FACTOR_COLUMNS)

    @property
    def num_factors(self) -> int:
        return len(LATENT_FACTOR_COLUMNS)

    # -- ground-truth interface -------------------------------------------------------------------
    def sample_factors(self, n: int, rng: np.random.Generator | np.random.RandomState) -> np.ndarray:
        """(n, 5) factor classes drawn uniformly over the grid, with replacement, one factor at a time."""
        return sample_factors(self.factor_sizes, n, rng)

    def indices_from_factors(self, factors: np.ndarray) -> np.ndarray:
        factors = np.asarray(factors, dtype=np.int64)
        return factors @ self.bases[list(LATENT_FACTOR_COLUMNS)]

    def images(self, indices) -> np.ndarray:
        """(n, 64, 64) uint8 images in {0, 1}."""
        return np.unpackbits(self.packed[np.asarray(indices)], axis=-1)

    def images_from_factors(self, factors: np.ndarray) -> np.ndarray:
        """(n, 1, 64, 64) float32 images in {0, 1}, channel first."""
        return self.images(self.indices_from_factors(factors))[:, None].astype(np.float32)

    def factors(self, indices) -> np.ndarray:
        return self.classes[np.asarray(indices)][:, list(LATENT_FACTOR_COLUMNS)]

    def mean_image(self, chunk: int = 65536) -> np.ndarray:
        total = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.int64)
        for start in range(0, len(self), chunk):
            total += self.images(np.arange(start, min(start + chunk, len(self)))).sum(axis=0, dtype=np.int64)
        return total / len(self)


def _pack(path, images: np.ndarray) -> np.ndarray:
    if images.max(initial=0) > 1:
        _fail(path, "has pixel values above 1 (dSprites images are binary 0/1)")
    return np.packbits(images, axis=-1)


def _check_images_layout(path, shape, dtype):
    if len(shape) != 3 or tuple(shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        _fail(path, f"has images of shape {tuple(shape)}, expected (N, 64, 64)")
    if np.dtype(dtype) != np.uint8:
        _fail(path, f"has images of dtype {dtype}, expected uint8")


def _read_hdf5(path):
    try:
        with h5py.File(path, "r") as h5:
            for key in ("imgs", "latents/classes", "latents/values"):
                if key not in h5:
                    _fail(path, f"has no '{key}' dataset (found {sorted(h5.keys())})")
            imgs = h5["imgs"]
            _check_images_layout(path, imgs.shape, imgs.dtype)
            packed = np.empty((imgs.shape[0], IMAGE_SIZE, IMAGE_SIZE // 8), dtype=np.uint8)
            for start in range(0, imgs.shape[0], READ_CHUNK):
                packed[start : start + READ_CHUNK] = _pack(path, imgs[start : start + READ_CHUNK])
            standin = bool(imgs.attrs.get("standin", False))
            return packed, h5["latents/classes"][()], h5["latents/values"][()], standin
    except DatasetError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        _fail(path, f"is unreadable: truncated or corrupt ({exc})")


def cache_path(path) -> Path:
    """Where the packed images of an HDF5 are kept once unpacked: beside it (the dataset check writes it)."""
    path = Path(path)
    return path.with_name(path.name + ".packed.npz")


def _source_key(path) -> tuple[int, int]:
    stat = Path(path).stat()
    return stat.st_size, stat.st_mtime_ns


def _read_cache(path):
    """The packed images, factors and stand-in flag of ``path`` from its cache, or None where there is none that
    matches the file (its size and modification time) and this loader's format."""
    cache = cache_path(path)
    if not cache.is_file():
        return None
    try:
        with np.load(cache) as z:
            if int(z["version"]) != CACHE_VERSION or tuple(int(v) for v in z["source"]) != _source_key(path):
                log.info("%s is not of this %s; reading the HDF5", cache, path)
                return None
            return z["packed"], z["classes"], z["values"], bool(z["standin"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        log.warning("%s is unreadable (%s); reading the HDF5", cache, exc)
        return None


def write_cache(data: DSprites) -> Path | None:
    """Keep ``data``'s packed images beside its HDF5, so that every later job reads 377 MB instead of unpacking 3 GB
    of gzip. A cache, not a result: where it cannot be written the jobs read the HDF5, as they would without it."""
    from dislab.atomic import atomic_path

    cache = cache_path(data.path)
    try:
        with atomic_path(cache, suffix=".npz") as tmp:
            np.savez(
                tmp,
                packed=data.packed,
                classes=data.classes,
                values=data.values,
                standin=data.standin,
                source=np.asarray(_source_key(data.path)),
                version=CACHE_VERSION,
            )
    except (OSError, DiskFullError) as exc:  # a read-only directory, a full disk: each job unpacks the HDF5
        log.warning("no cache of the unpacked images beside %s (%s); every job will unpack the HDF5", data.path, exc)
        return None
    return cache


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in ("imgs", "latents_classes", "latents_values"):
                if key not in npz.files:
                    _fail(path, f"has no '{key}' array (found {sorted(npz.files)})")
            imgs = npz["imgs"]
            _check_images_layout(path, imgs.shape, imgs.dtype)
            return _pack(path, imgs), npz["latents_classes"], npz["latents_values"]
    except DatasetError:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, KeyError) as exc:
        _fail(path, f"is unreadable: truncated or corrupt ({exc})")


def _check_factors(path, classes, values, n):
    if classes.shape != (n, 6) or values.shape != (n, 6):
        _fail(path, f"has latents of shapes {classes.shape} and {values.shape}, expected ({n}, 6) each")
    if not np.issubdtype(classes.dtype, np.integer) or not np.issubdtype(values.dtype, np.floating):
        _fail(path, f"has latents of dtypes {classes.dtype}/{values.dtype}, expected integer classes, float values")
    if classes.min() < 0:
        _fail(path, "has negative factor classes")
    try:
        grid = FactorGrid(tuple(int(s) for s in classes.max(axis=0) + 1))
    except ValueError as exc:
        _fail(path, f"does not hold the dSprites factor grid: {exc}")
    if grid.num_images != n or not np.array_equal(classes.astype(np.int64) @ grid.bases, np.arange(n)):
        _fail(path, "does not hold every factor combination exactly once in the official row-major order")
    grids = grid.values()
    for j, name in enumerate(FACTOR_NAMES):
        lo, hi = grids[j][0], grids[j][-1]
        if values[:, j].min() < lo - 1e-6 or values[:, j].max() > hi + 1e-6:
            _fail(path, f"has {name} values outside [{lo:.3g}, {hi:.3g}]")
