"""Qualitative figures: latent traversals (5.5, 5.8, 5.10), encoder KDEs (5.6), aggregate posteriors (5.12)
and the domain-shift probes (5.17 pixel flips and pure noise, 5.18 a triangle and a colour-inverted image)."""

from __future__ import annotations

import numpy as np
import seaborn as sns
import torch
from scipy.stats import norm

from dislab.cells import strength_tag
from dislab.data.render import SHAPES, render
from dislab.evaluation.active import active_latents, kl_order
from dislab.figures.common import MODEL_COLORS, MODEL_LABELS, cell_title, plt, save_figure

BATCH = 1000


@torch.no_grad()
def encode(model, images: np.ndarray):
    """(n, 64, 64) images -> (mu, sigma), each (n, latent_dim)."""
    mus, sigmas = [], []
    for start in range(0, len(images), BATCH):
        x = torch.from_numpy(images[start : start + BATCH, None].astype(np.float32))
        mu, logvar = model.encoder(x)
        mus.append(mu.numpy())
        sigmas.append(torch.exp(0.5 * logvar).numpy())
    return np.concatenate(mus), np.concatenate(sigmas)


def latent_kl(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Mean over points of KL(q(z_i|x) || N(0, 1)) per latent."""
    return (0.5 * (mu**2 + sigma**2 - 2 * np.log(sigma) - 1)).mean(axis=0)


@torch.no_grad()
def traverse(model, image: np.ndarray, dims, values) -> np.ndarray:
    """Decode the image's encoder mean with latent ``dim`` set to each value: (len(dims), len(values), 64, 64)."""
    mu, _ = model.encoder(torch.from_numpy(image[None, None].astype(np.float32)))
    rows = []
    for dim in dims:
        z = mu.repeat(len(values), 1)
        z[:, dim] = torch.as_tensor(values, dtype=z.dtype)
        rows.append(torch.sigmoid(model.decoder(z))[:, 0].numpy())
    return np.stack(rows) if rows else np.zeros((0, len(values), 64, 64))


def flip_pixels(image: np.ndarray, probability: float, rng) -> np.ndarray:
    """Flip each binary pixel independently with ``probability``."""
    return np.where(rng.random(image.shape) < probability, 1 - image, image).astype(image.dtype)


def nearest_image_index(data, spec: dict) -> int:
    """The dataset image whose factor values are nearest the config's input image (any grid size)."""
    values = data.grid.values()
    wanted = [0, SHAPES.index(spec["shape"]), spec["scale"], spec["orientation"], spec["posX"], spec["posY"]]
    classes = [0, min(wanted[1], len(values[1]) - 1)]
    classes += [int(np.argmin(np.abs(values[j] - wanted[j]))) for j in range(2, 6)]
    return int(np.asarray(classes) @ data.bases)


class TraversalSpec:
    def __init__(self, settings: dict):
        t = settings["traversal"]
        self.values = np.linspace(t["low"], t["high"], t["steps"])
        self.threshold = settings["active_kl_threshold"]
        self.num_points = settings["num_points"]


def _model_stats(model, data, num_points: int, seed: int):
    rng = np.random.default_rng(seed)
    images = data.images(rng.choice(len(data), size=min(num_points, len(data)), replace=False))
    mu, sigma = encode(model, images)
    return mu, sigma, latent_kl(mu, sigma)


ROW_INCHES = 0.95  # height of one traversal row


def _draw_traversal(fig_or_subfig, rows: np.ndarray, dims, kl, values, title: str, input_image=None):
    n_rows = max(len(dims), 1)
    extra = 1 if input_image is not None else 0
    height = ROW_INCHES * (n_rows + 0.8)  # the panel's height, as figure_traversal and _probe_figure size it
    axes = fig_or_subfig.subplots(
        n_rows,
        len(values) + extra,
        squeeze=False,
        # room for the panel's title above and the values below, no more: images are square
        gridspec_kw={"top": 1 - 0.42 / height, "bottom": 0.3 / height, "left": 0.03, "right": 0.9},
    )
    for r in range(n_rows):
        for c in range(len(values) + extra):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if extra and c == 0:
                if r == 0:
                    ax.imshow(input_image, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
                    ax.set_title("input", fontsize=8)
                else:
                    ax.set_axis_off()
                continue
            if len(dims) == 0:
                ax.set_axis_off()
                continue
            ax.imshow(rows[r, c - extra], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            if r == n_rows - 1:
                ax.set_xlabel(f"{values[c - extra]:+.1f}", fontsize=7)
        if len(dims):  # the latent's name on the right, clear of the input column
            label_ax = axes[r, -1]
            label_ax.yaxis.set_label_position("right")
            label_ax.set_ylabel(f"z{dims[r]}\nKL {kl[dims[r]]:.2f}", rotation=0, ha="left", va="center", fontsize=7)
    if len(dims) == 0:
        axes[0, extra].text(0, 0.5, "no active latent (every KL below the threshold)", fontsize=8)
    fig_or_subfig.suptitle(title, fontsize=9)


def _cell_title(cell: dict) -> str:
    return cell_title(cell["model"], cell["strength"], cell["seed"])


def figure_traversal(number: str, entries, data, settings: dict, out_png, all_latents: bool = False) -> None:
    """Traversals of one or several models (``entries``: (cell, model) pairs) around the config's input image."""
    spec = TraversalSpec(settings)
    image = data.images([nearest_image_index(data, settings["input_image"])])[0]
    heights = []
    panels = []
    for cell, model in entries:
        _, _, kl = _model_stats(model, data, spec.num_points, settings["random_seed"])
        dims = kl_order(kl) if all_latents else active_latents(kl, spec.threshold)
        panels.append((cell, kl, dims, traverse(model, image, dims, spec.values)))
        heights.append(max(len(dims), 1) + 0.8)
    fig = plt.figure(figsize=(1.0 * (len(spec.values) + 1) + 1, ROW_INCHES * sum(heights) + 0.6))
    subfigs = fig.subfigures(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    for k, (subfig, (cell, kl, dims, rows)) in enumerate(zip(subfigs, panels)):
        which = (
            "every latent, sorted by KL"
            if all_latents
            else (f"active latents (KL > {spec.threshold:g} nats): {', '.join(f'z{d}' for d in dims) or 'none'}")
        )
        letter = f"({chr(97 + k)}) " if len(panels) > 1 else ""
        _draw_traversal(
            subfig, rows, dims, kl, spec.values, f"{letter}{_cell_title(cell)} — {which}", input_image=image
        )
    fig.suptitle(f"Figure {number} — latent traversals over [{spec.values[0]:g}, {spec.values[-1]:g}]", y=1.04)
    save_figure(fig, out_png)


def traversal_all(entries, data, settings: dict, out_png, number: str) -> None:
    """Traversals of every latent, sorted by KL (Figure 5.5)."""
    figure_traversal(number, entries, data, settings, out_png, all_latents=True)


def traversal_active(entries, data, settings: dict, out_png, number: str) -> None:
    """Traversals of the active latents of one or several models (Figures 5.8, 5.10)."""
    figure_traversal(number, entries, data, settings, out_png, all_latents=False)


def figure_encoder_kde(entries, data, settings: dict, out_png, number: str) -> None:
    ((cell, model),) = entries
    spec = TraversalSpec(settings)
    mu, sigma, kl = _model_stats(model, data, spec.num_points, settings["random_seed"])
    active = set(active_latents(kl, spec.threshold).tolist())
    order = kl_order(kl)
    groups = {"active": [d for d in order if d in active], "passive": [d for d in order if d not in active]}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    palette = plt.cm.tab10(np.arange(len(kl)) % 10)
    for col, (name, dims) in enumerate(groups.items()):
        for row, (values, label) in enumerate(((mu, "encoder mean μ(x)"), (sigma, "encoder std σ(x)"))):
            ax = axes[row, col]
            for d in dims:
                if np.ptp(values[:, d]) > 1e-6:
                    sns.kdeplot(
                        values[:, d], ax=ax, color=palette[d], label=f"z{d} (KL {kl[d]:.2f})", warn_singular=False
                    )
                else:
                    ax.axvline(values[0, d], color=palette[d], label=f"z{d} (constant)")
            ax.set_xlabel(label)
            ax.set_ylabel("density")
            ax.set_title(f"({'abcd'[row * 2 + col]}) {label.split(' ')[1]} of {name} latents ({len(dims)})")
            if dims:
                ax.legend(fontsize=7)
    fig.suptitle(
        f"Figure {number} — encoder μ and σ over {len(mu):,} points, {_cell_title(cell)}; "
        f"active = KL > {spec.threshold:g} nats"
    )
    fig.tight_layout()
    save_figure(fig, out_png)


def figure_aggregate_posterior(entries, data, settings: dict, out_png, number: str) -> None:
    spec = TraversalSpec(settings)
    grid = np.linspace(-4, 4, 200)
    latent_dim = entries[0][1].latent_dim
    fig, axes = plt.subplots(
        len(entries), latent_dim, figsize=(1.6 * latent_dim, 2.2 * len(entries)), squeeze=False, sharex=True
    )
    for r, (cell, model) in enumerate(entries):
        mu, sigma, kl = _model_stats(model, data, spec.num_points, settings["random_seed"])
        z = mu + sigma * np.random.default_rng(settings["random_seed"]).standard_normal(mu.shape)
        for c, d in enumerate(kl_order(kl)):
            ax = axes[r, c]
            ax.hist(
                np.clip(z[:, d], -4, 4),
                bins=40,
                range=(-4, 4),
                density=True,
                color=MODEL_COLORS[cell["model"]],
                alpha=0.6,
            )
            ax.plot(grid, norm.pdf(grid), "k-", lw=1)
            ax.set_title(f"z{d}, KL {kl[d]:.2f}", fontsize=7)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
        axes[r, 0].set_ylabel(
            f"({'ab'[r] if r < 2 else r}) {MODEL_LABELS[cell['model']]}\n{strength_tag(cell['strength'])}", fontsize=8
        )
    fig.suptitle(
        f"Figure {number} — aggregate posterior q(z_i) from {spec.num_points:,} samples (bars) against N(0, 1) "
        "(line); latents sorted by KL, most informative on the left"
    )
    fig.tight_layout()
    save_figure(fig, out_png)


def _probe_figure(number: str, cell, model, data, settings, inputs, out_png, caption: str) -> None:
    spec = TraversalSpec(settings)
    _, _, kl = _model_stats(model, data, spec.num_points, settings["random_seed"])
    dims = active_latents(kl, spec.threshold)
    heights = [max(len(dims), 1) + 0.8] * len(inputs)
    fig = plt.figure(figsize=(1.0 * (len(spec.values) + 1) + 1, ROW_INCHES * sum(heights) + 0.6))
    subfigs = fig.subfigures(len(inputs), 1, height_ratios=heights, squeeze=False)[:, 0]
    for k, (subfig, (label, image)) in enumerate(zip(subfigs, inputs)):
        _draw_traversal(
            subfig,
            traverse(model, image, dims, spec.values),
            dims,
            kl,
            spec.values,
            f"({chr(97 + k)}) {label}",
            input_image=image,
        )
    fig.suptitle(
        f"Figure {number} — {caption}, {_cell_title(cell)}; active latents (KL > {spec.threshold:g}): "
        f"{', '.join(f'z{d}' for d in dims) or 'none'}",
        y=1.04,
    )
    save_figure(fig, out_png)


def figure_corruption(entries, data, settings: dict, out_png, number: str) -> None:
    ((cell, model),) = entries
    rng = np.random.default_rng(settings["random_seed"])
    image = data.images([nearest_image_index(data, settings["input_image"])])[0]
    inputs = [
        (f"pixels flipped with probability {p:g}", flip_pixels(image, p, rng)) for p in settings["flip_probabilities"]
    ]
    inputs.append(("pure noise (each pixel on with probability 0.5)", (rng.random(image.shape) < 0.5).astype(np.uint8)))
    _probe_figure(number, cell, model, data, settings, inputs, out_png, "traversals of corrupted inputs")


def figure_domain_shift(entries, data, settings: dict, out_png, number: str) -> None:
    ((cell, model),) = entries
    spec = settings["input_image"]
    triangle = render("triangle", spec["scale"], spec["orientation"], spec["posX"], spec["posY"])
    image = data.images([nearest_image_index(data, spec)])[0]
    inputs = [
        ("a triangle drawn by the renderer (no triangle in dSprites)", triangle),
        ("the input image with its colours inverted", 1 - image),
    ]
    _probe_figure(number, cell, model, data, settings, inputs, out_png, "traversals of out-of-domain inputs")
