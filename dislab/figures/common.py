"""Saving and shared styling for every figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Tick labels show the values themselves, never an offset ("+2.66893e3") that a reader must add back.
matplotlib.rcParams["axes.formatter.useoffset"] = False
import matplotlib.pyplot as plt  # noqa: E402

from dislab.atomic import atomic_path  # noqa: E402
from dislab.cells import MODEL_LABELS  # noqa: E402,F401  (the figures' names for the models)

# One colour per model, the same in every figure.
MODEL_COLORS = {
    "betavae": "#1f77b4",
    "factorvae": "#d62728",
    "btcvae": "#2ca02c",
    "dipvae": "#9467bd",
    "annealedvae": "#ff7f0e",
    "infovae": "#8c564b",
}


def cell_title(model: str, strength: float, seed: int) -> str:
    """How every figure names a trained cell, e.g. 'β-VAE strength 3, seed 0'."""
    from dislab.cells import strength_tag

    return f"{MODEL_LABELS[model]} strength {strength_tag(strength)}, seed {seed}"


def save_figure(fig, png_path, dpi: int = 150) -> None:
    """Write ``png_path`` and the PDF beside it, each atomically, then close the figure."""
    png_path = Path(png_path)
    for path, kwargs in ((png_path, {"dpi": dpi}), (png_path.with_suffix(".pdf"), {})):
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, format=path.suffix[1:], bbox_inches="tight", **kwargs)
    plt.close(fig)


def image_grid(ax, images, rows: int, cols: int, pad: int = 2):
    """Show ``rows * cols`` grey images tiled with a light gap, axes off."""
    import numpy as np

    h, w = images.shape[-2:]
    canvas = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), 0.7)  # grey gaps between images
    for k, img in enumerate(images[: rows * cols]):
        r, c = divmod(k, cols)
        canvas[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = 1 - img
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
