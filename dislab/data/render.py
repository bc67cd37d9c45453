"""Offline dSprites renderer: the official factor grid drawn into the official HDF5 layout.

Geometry fitted to the real pixels (see shared/notes/dsprites-facts.md, section 2.4): a pixel is 1 when its
centre lies inside the shape; the shape is scaled by ``scale`` and rotated counter-clockwise (as displayed)
about the position point ``(16 + 32 posX, 16 + 32 posY)`` px, with posY = 0 at the top row.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from functools import cache

import numpy as np

from dislab.data.grid import FACTOR_NAMES, FactorGrid
from dislab.progress import progress_bar

IMAGE_SIZE = 64
SQUARE_HALF_SIDE = 9.6 - 1e-3  # px at scale 1; points exactly on an edge count as outside
ELLIPSE_SEMI_AXES = (12.77, 7.21)  # px at scale 1, major axis along the orientation
HEART_X_SCALE, HEART_Y_SCALE, HEART_Y_SHIFT = 0.5995, 0.6625, 1.435  # curve units -> px
HEART_VERTICES = 1000
RADIUS_TABLE_SIZE = 65536
TRIANGLE_CIRCUMRADIUS = 11.0  # px at scale 1: an equilateral triangle of about the square's area
SHAPES = ("square", "ellipse", "heart", "triangle")  # the first three are dSprites; triangle is out of domain


def _heart_polygon() -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, HEART_VERTICES, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.stack([HEART_X_SCALE * x, HEART_Y_SCALE * y + HEART_Y_SHIFT], axis=1)


def _triangle_polygon() -> np.ndarray:
    angles = np.pi / 2 + np.arange(3) * 2 * np.pi / 3  # one vertex pointing up at orientation 0
    return TRIANGLE_CIRCUMRADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


@cache
def _radius_table(shape: str) -> np.ndarray:
    """Distance from the origin to a star-shaped polygon's boundary, tabulated over the full turn of angles."""
    poly = _heart_polygon() if shape == "heart" else _triangle_polygon()
    start, edge = poly, np.roll(poly, -1, axis=0) - poly
    phi = (np.arange(RADIUS_TABLE_SIZE) + 0.5) * (2 * np.pi / RADIUS_TABLE_SIZE) - np.pi
    direction = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    radius = np.full(RADIUS_TABLE_SIZE, np.inf)
    for p, e in zip(start, edge):  # ray-segment intersection, one polygon edge at a time
        denom = direction[:, 0] * e[1] - direction[:, 1] * e[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (p[0] * e[1] - p[1] * e[0]) / denom
            along = (p[0] * direction[:, 1] - p[1] * direction[:, 0]) / denom
        hit = (along >= 0) & (along <= 1) & (r > 0)
        radius = np.where(hit, np.minimum(radius, r), radius)
    return radius.astype(np.float32)


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of local, unit-scale pixel coordinates (u right, v up) in a shape."""
    if shape == "square":
        return (np.abs(u) < SQUARE_HALF_SIDE) & (np.abs(v) < SQUARE_HALF_SIDE)
    if shape == "ellipse":
        a, b = ELLIPSE_SEMI_AXES
        return (u / a) ** 2 + (v / b) ** 2 < 1
    if shape in ("heart", "triangle"):
        table = _radius_table(shape)
        k = ((np.arctan2(v, u) + np.pi) * (RADIUS_TABLE_SIZE / (2 * np.pi))).astype(np.int32)
        return u * u + v * v < table[np.minimum(k, RADIUS_TABLE_SIZE - 1)] ** 2
    raise ValueError(f"unknown shape {shape!r}; choose one of {SHAPES}")


def render_positions(shape: str, scale: float, orientation: float, pos_x, pos_y) -> np.ndarray:
    """Images of one (shape, scale, orientation) at every (posX, posY) pair: (len(pos_x), len(pos_y), 64, 64)."""
    centre = np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5
    dx = centre[None, :] - (16 + 32 * np.asarray(pos_x, np.float32))[:, None]  # (nx, col)
    dy = (16 + 32 * np.asarray(pos_y, np.float32))[:, None] - centre[None, :]  # (ny, row), up is positive
    c, s = np.float32(np.cos(orientation) / scale), np.float32(np.sin(orientation) / scale)
    dx, dy = dx[:, None, None, :], dy[None, :, :, None]
    u = c * dx + s * dy
    v = c * dy - s * dx
    return _inside(shape, u, v).astype(np.uint8)


def render(shape: str, scale: float = 1.0, orientation: float = 0.0, pos_x: float = 0.5, pos_y: float = 0.5):
    """One 64x64 uint8 image; also draws shapes outside dSprites (``"triangle"``)."""
    return render_positions(shape, scale, orientation, [pos_x], [pos_y])[0, 0]


def _render_block(args):
    grid_sizes, shape_idx, scale_idx = args
    grid = FactorGrid(grid_sizes)
    values = dict(zip(FACTOR_NAMES, grid.values()))
    shape = SHAPES[shape_idx]
    scale = values["scale"][scale_idx]
    return np.stack([render_positions(shape, scale, o, values["posX"], values["posY"]) for o in values["orientation"]])


def render_grid(grid: FactorGrid, workers: int | None = None, progress: bool = True):
    """Yield ``(start_index, images)`` blocks covering the whole grid in file order."""
    _, n_shape, n_scale, n_orient, n_x, n_y = grid.sizes
    block = n_orient * n_x * n_y
    jobs = [(grid.sizes, sh, sc) for sh in range(n_shape) for sc in range(n_scale)]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    bar = progress_bar(total=len(jobs), desc="rendering dSprites", unit="block", disable=not progress, mininterval=2)
    if workers <= 1:
        results = map(_render_block, jobs)
        for i, images in enumerate(results):
            bar.update()
            yield i * block, images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    else:
        with ProcessPoolExecutor(workers) as pool:
            for i, images in enumerate(pool.map(_render_block, jobs)):
                bar.update()
                yield i * block, images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    bar.close()
