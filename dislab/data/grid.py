"""The dSprites factor grid: names, value grids and the row-major index order of the official file."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACTOR_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FULL_SIZES = (1, 3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
# The ground-truth factors every metric sees: colour has a single value and is not a factor
# (disentanglement_lib's "dsprites_full" convention).
LATENT_FACTOR_COLUMNS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class FactorGrid:
    """Number of values per factor, in file order (colour, shape, scale, orientation, posX, posY)."""

    sizes: tuple[int, ...] = FULL_SIZES

    def __post_init__(self):
        if len(self.sizes) != 6 or self.sizes[0] != 1:
            raise ValueError(f"a dSprites grid has 6 factors with one colour, got sizes {self.sizes}")
        for name, size, full in zip(FACTOR_NAMES, self.sizes, FULL_SIZES):
            if not 1 <= size <= full:
                raise ValueError(f"grid size of {name} must be between 1 and {full}, got {size}")

    @classmethod
    def from_mapping(cls, sizes: dict) -> FactorGrid:
        return cls(tuple([1] + [int(sizes[name]) for name in FACTOR_NAMES[1:]]))

    @property
    def num_images(self) -> int:
        return int(np.prod(self.sizes))

    @property
    def bases(self) -> np.ndarray:
        """Index of an image = classes @ bases (posY varies fastest)."""
        sizes = np.asarray(self.sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def values(self) -> list[np.ndarray]:
        """The value grid of each factor; on the full grid these are the official file's values."""
        n = dict(zip(FACTOR_NAMES, self.sizes))
        return [
            np.ones(1),
            np.arange(1, n["shape"] + 1, dtype=np.float64),  # 1-based: square, ellipse, heart
            np.linspace(0.5, 1.0, n["scale"]),
            np.linspace(0.0, 2 * np.pi, n["orientation"]),  # both ends included, as in the file
            np.linspace(0.0, 1.0, n["posX"]),
            np.linspace(0.0, 1.0, n["posY"]),
        ]

    def all_classes(self) -> np.ndarray:
        """(N, 6) int64 class indices of every image, in file order."""
        mesh = np.meshgrid(*[np.arange(s) for s in self.sizes], indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1).astype(np.int64)

    def all_values(self, classes: np.ndarray | None = None) -> np.ndarray:
        classes = self.all_classes() if classes is None else classes
        grids = self.values()
        return np.stack([grids[j][classes[:, j]] for j in range(6)], axis=1)


def sample_factors(sizes, n: int, rng) -> np.ndarray:
    """(n, K) factor classes drawn uniformly and independently, with replacement, one factor at a time."""
    draw = rng.integers if isinstance(rng, np.random.Generator) else rng.randint
    return np.stack([draw(0, size, size=n) for size in sizes], axis=1).astype(np.int64)


@dataclass(frozen=True)
class FactorSpace:
    """The ground-truth interface without images: enough for metrics on crafted representations."""

    factor_sizes: tuple[int, ...]

    def sample_factors(self, n: int, rng) -> np.ndarray:
        return sample_factors(self.factor_sizes, n, rng)
