"""Figure 5.1: (a) 25 random dSprites images, (b) the mean image (pixel density) over the whole dataset."""

from __future__ import annotations

import numpy as np

from dislab.figures.common import image_grid, plt, save_figure


def figure_dataset(data, settings: dict, out_png) -> None:
    rng = np.random.default_rng(settings["random_seed"])
    images = data.images(rng.choice(len(data), size=25, replace=False))
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 4.4), gridspec_kw={"width_ratios": [1, 1]}, layout="constrained")
    image_grid(ax_a, images, 5, 5)
    ax_a.set_title("(a) 25 random images (shape pixels in black)")
    mean = data.mean_image()
    shown = ax_b.imshow(mean, cmap="viridis", interpolation="nearest")
    ax_b.set_title(f"(b) mean image over all {len(data):,} images")
    ax_b.set_xlabel("column (posX →)")
    ax_b.set_ylabel("row (posY ↓)")
    fig.colorbar(shown, ax=ax_b, fraction=0.046, label="fraction of images with the pixel on")
    name = "dislab's rendered stand-in for dSprites" if data.standin else "dSprites"
    fig.suptitle(f"Figure 5.1 — {name}")
    save_figure(fig, out_png)
