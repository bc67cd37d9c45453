"""Figures that run a trained VAE: 5.2 (prior samples) and 5.3 (reconstructions)."""

from __future__ import annotations

import numpy as np
import torch

from dislab.figures.common import image_grid, plt, save_figure

DECODE_BATCH = 1000


@torch.no_grad()
def decode_prior(model, n: int, seed: int) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((n, model.latent_dim), generator=gen)
    return np.concatenate([torch.sigmoid(model.decoder(chunk)).numpy()[:, 0] for chunk in z.split(DECODE_BATCH)])


def figure_prior_samples(model, data, settings: dict, out_png, title: str) -> None:
    num_samples = settings["num_prior_samples"]
    images = decode_prior(model, max(num_samples, 25), settings["random_seed"])
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
    image_grid(ax_a, images[:25], 5, 5)
    ax_a.set_title("(a) 25 decoded samples z ~ N(0, I)\n(pixel probabilities, dark = 1)")
    shown = ax_b.imshow(images[:num_samples].mean(axis=0), cmap="viridis", interpolation="nearest")
    ax_b.set_title(f"(b) mean of {num_samples:,} decoded prior samples")
    ax_b.set_xlabel("column")
    ax_b.set_ylabel("row")
    fig.colorbar(shown, ax=ax_b, fraction=0.046, label="mean pixel probability")
    fig.suptitle(f"Figure 5.2 — the VAE as a generator ({title})")
    save_figure(fig, out_png)


@torch.no_grad()
def figure_reconstructions(model, data, settings: dict, out_png, title: str) -> None:
    num_images = settings["num_reconstructions"]
    rng = np.random.default_rng(settings["random_seed"])
    idx = np.sort(rng.choice(len(data), size=num_images, replace=False))
    x = data.images(idx).astype(np.float32)
    mu, _ = model.encoder(torch.from_numpy(x[:, None]))
    recon = torch.sigmoid(model.decoder(mu)).numpy()[:, 0]
    rows = [
        ("input", x, "gray_r", (0, 1)),
        ("reconstruction p(x|z=μ)", recon, "gray_r", (0, 1)),
        ("difference input − reconstruction", x - recon, "RdBu_r", (-1, 1)),
    ]
    fig, axes = plt.subplots(3, num_images, figsize=(1.2 * num_images, 4.2), squeeze=False)
    for r, (label, imgs, cmap, (lo, hi)) in enumerate(rows):
        for c in range(num_images):
            ax = axes[r, c]
            shown = ax.imshow(imgs[c], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.colorbar(shown, ax=axes[2, :].tolist(), fraction=0.02, label="difference")
    fig.suptitle(f"Figure 5.3 — reconstructions of {num_images} random images ({title})")
    save_figure(fig, out_png)
