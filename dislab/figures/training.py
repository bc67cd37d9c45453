"""Figures drawn from training: 5.2 (prior samples), 5.3 (reconstructions), 5.4 and 5.7 (curves per epoch)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from dislab.figures.common import MODEL_LABELS, image_grid, plt, save_figure
from dislab.cells import cell_from_path, strength_tag

DECODE_BATCH = 1000


@torch.no_grad()
def decode_prior(model, n: int, seed: int) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((n, model.latent_dim), generator=gen)
    return np.concatenate([torch.sigmoid(model.decoder(chunk)).numpy()[:, 0] for chunk in z.split(DECODE_BATCH)])


def figure_prior_samples(model, out_png, num_samples: int, seed: int, title: str) -> None:
    images = decode_prior(model, max(num_samples, 25), seed)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 4.4))
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
def figure_reconstructions(data, model, out_png, num_images: int, seed: int, title: str) -> None:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(data), size=num_images, replace=False))
    x = data.images(idx).astype(np.float32)
    mu, _ = model.encoder(torch.from_numpy(x[:, None]))
    recon = torch.sigmoid(model.decoder(mu)).numpy()[:, 0]
    rows = [("input", x, "gray_r", (0, 1)), ("reconstruction p(x|z=μ)", recon, "gray_r", (0, 1)),
            ("difference input − reconstruction", x - recon, "RdBu_r", (-1, 1))]
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


def read_logs(paths) -> pd.DataFrame:
    frames = []
    for path in paths:
        cell = cell_from_path(path)
        frame = pd.read_csv(path)
        frame["model"], frame["strength"], frame["seed"] = cell.model, cell.strength, cell.seed
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def per_epoch(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Mean of each column per epoch (1, 2, ...); runs shorter than two epochs keep their logged points."""
    if frame["epoch"].max() < 2:
        return frame[["epoch", *columns]].copy()
    epoch = np.ceil(frame["epoch"] - 1e-9).astype(int).rename("epoch")
    return frame[list(columns)].groupby(epoch).mean().reset_index()


def figure_reconstruction_per_epoch(log_paths, out_png) -> None:
    logs = read_logs(log_paths)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for seed, frame in logs.groupby("seed"):
        curve = per_epoch(frame, ["reconstruction"])
        ax.plot(curve["epoch"], curve["reconstruction"], marker="o", ms=3, lw=1, label=f"seed {seed}")
    first = logs.iloc[0]
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (BCE, nats per image)")
    ax.set_title(f"Figure 5.4 — reconstruction error per epoch, {MODEL_LABELS[first['model']]} "
                 f"strength {strength_tag(first['strength'])}, {logs['seed'].nunique()} seeds")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    save_figure(fig, out_png)


def figure_objective_per_beta(log_paths, out_png) -> None:
    logs = read_logs(log_paths)
    parts = [("loss", "(a) total loss"), ("reconstruction", "(b) reconstruction"), ("kl", "(c) KL divergence")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    colors = plt.cm.viridis(np.linspace(0, 0.9, logs["strength"].nunique()))
    for color, (beta, frame) in zip(colors, logs.groupby("strength")):
        seeds = [per_epoch(f, [p for p, _ in parts]) for _, f in frame.groupby("seed")]
        curve = pd.concat(seeds).groupby("epoch").mean().reset_index()
        for ax, (part, _) in zip(axes, parts):
            ax.plot(curve["epoch"], curve[part], marker="o", ms=3, color=color, label=f"β = {strength_tag(beta)}")
    for ax, (_, title) in zip(axes, parts):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per image (mean over seeds)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Figure 5.7 — β-VAE objective per epoch for each β")
    save_figure(fig, out_png)
