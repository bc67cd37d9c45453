"""Figures drawn from the training logs: 5.4 and 5.7 (curves per epoch)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dislab.cells import strength_tag
from dislab.figures.common import MODEL_LABELS, plt, save_figure


def read_logs(logs) -> pd.DataFrame:
    """The training logs of (cell, train_log.csv) pairs, one frame, with the cells' model, strength and seed."""
    frames = []
    for cell, path in logs:
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


def figure_reconstruction_per_epoch(logs, out_png) -> None:
    """``logs``: (cell, train_log.csv) pairs of one model and strength."""
    logs = read_logs(logs)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for seed, frame in logs.groupby("seed"):
        curve = per_epoch(frame, ["reconstruction"])
        ax.plot(curve["epoch"], curve["reconstruction"], marker="o", ms=3, lw=1, label=f"seed {seed}")
    first = logs.iloc[0]
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (BCE, nats per image)")
    ax.set_title(
        f"Figure 5.4 — reconstruction error per epoch, {MODEL_LABELS[first['model']]} "
        f"strength {strength_tag(first['strength'])}, {logs['seed'].nunique()} seeds"
    )
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    save_figure(fig, out_png)


def figure_objective_per_beta(logs, out_png) -> None:
    """``logs``: (cell, train_log.csv) pairs of β-VAE cells."""
    logs = read_logs(logs)
    parts = [("loss", "(a) total loss"), ("reconstruction", "(b) reconstruction"), ("kl", "(c) KL divergence")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained")
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
