"""Figures drawn from the fan-in tables (5.9, 5.11, 5.13, 5.14, 5.15, 5.16, 5.19): each ``(table, corr, out_png)``,
with metrics.csv as ``table`` and the figure's Spearman table (or None) as ``corr``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from dislab.cells import strength_tag
from dislab.evaluation.tables import METRIC_LABELS, THESIS_METRICS, downstream_columns
from dislab.figures.common import MODEL_COLORS, MODEL_LABELS, plt, save_figure

UNSUPERVISED_LABELS = {"elbo": "ELBO", "reconstruction": "reconstruction", "kl": "KL"}


def _cell_label(row) -> str:
    return f"{MODEL_LABELS[row['model']]}\n{strength_tag(row['strength'])}"


def _heatmap(ax, corr: pd.DataFrame, row_labels, col_labels):
    col_labels = [label.replace(" metric", "\nmetric") for label in col_labels]  # side by side, they would touch
    values = corr.astype(float)
    sns.heatmap(
        values,
        ax=ax,
        vmin=-1,
        vmax=1,
        cmap="RdBu_r",
        annot=True,
        fmt=".2f",
        square=True,
        cbar_kws={"label": "Spearman ρ"},
        xticklabels=col_labels,
        yticklabels=row_labels,
    )
    ax.set_facecolor("0.85")
    for (r, c), value in np.ndenumerate(values.to_numpy()):
        if np.isnan(value):  # a score that is constant over the models has no rank correlation
            ax.text(c + 0.5, r + 0.5, "constant", ha="center", va="center", fontsize=7, color="0.3")
    ax.tick_params(axis="x", rotation=0)
    ax.tick_params(axis="y", rotation=0)


def _boxes_and_seeds(ax, data: pd.DataFrame, x: str, y: str, order, palette) -> None:
    """A box per category (translucent, no fliers) with every seed drawn on it as a point."""
    sns.boxplot(
        data=data,
        x=x,
        y=y,
        order=order,
        hue=x,
        palette=palette,
        ax=ax,
        showfliers=False,
        legend=False,
        boxprops={"alpha": 0.5},
    )
    sns.stripplot(data=data, x=x, y=y, order=order, color="k", size=3, ax=ax)


def fig5_09(table: pd.DataFrame, corr, out_png) -> None:
    data = table[table["model"] == "betavae"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    colors = plt.cm.viridis(np.linspace(0, 0.9, data["strength"].nunique()))
    for color, (beta, group) in zip(colors, data.groupby("strength")):
        ax.scatter(
            group["beta_vae"],
            group["reconstruction"],
            color=color,
            label=f"β = {strength_tag(beta)}",
            s=30,
            edgecolor="k",
            lw=0.4,
        )
    ax.set_xlabel("β-VAE metric (evaluation accuracy)")
    ax.set_ylabel("reconstruction error (BCE, nats per image)")
    fig.suptitle("Figure 5.9 — reconstruction vs β-VAE metric, one point per seed")
    ax.legend(title="β-VAE")
    ax.grid(alpha=0.3)
    save_figure(fig, out_png)


def fig5_11(table: pd.DataFrame, corr, out_png) -> None:
    data = table.assign(cell=table.apply(_cell_label, axis=1))
    order = list(dict.fromkeys(data.sort_values(["model", "strength"])["cell"]))
    palette = {c: MODEL_COLORS[m] for c, m in zip(data["cell"], data["model"])}
    fig, ax = plt.subplots(figsize=(max(7, 0.75 * len(order)), 4.8), layout="constrained")
    _boxes_and_seeds(ax, data, "cell", "reconstruction", order, palette)
    ax.set_xlabel("model and regularisation strength")
    ax.set_ylabel("reconstruction error (BCE, nats per image)")
    fig.suptitle("Figure 5.11 — reconstruction loss across models and strengths (seeds as points)")
    ax.tick_params(axis="x", labelsize=8)
    save_figure(fig, out_png)


def fig5_13(table: pd.DataFrame, corr: pd.DataFrame, out_png) -> None:
    n_cells = len(table)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    labels = [METRIC_LABELS[m] for m in corr.index]
    _heatmap(ax, corr, labels, [METRIC_LABELS[m] for m in corr.columns])
    fig.suptitle(
        f"Figure 5.13 — Spearman correlation between the metrics\n(all models, strengths, seeds: {n_cells} models)"
    )
    save_figure(fig, out_png)


def fig5_14(table: pd.DataFrame, corr, out_png) -> None:
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(1, 3, figsize=(max(13, 1.3 * len(models) * 3), 4.5), layout="constrained")
    for ax, metric in zip(axes, THESIS_METRICS):
        _boxes_and_seeds(ax, table, "model", metric, models, MODEL_COLORS)
        ax.set_xticks(range(len(models)), [MODEL_LABELS[m] for m in models], rotation=30, ha="right")
        ax.set_xlabel("")
        ax.set_ylabel("")  # the panel's title names the metric
        ax.set_title(METRIC_LABELS[metric])
    fig.suptitle("Figure 5.14 — distribution of each metric per model (all strengths and seeds)")
    save_figure(fig, out_png)


def fig5_15(table: pd.DataFrame, corr, out_png) -> None:
    data = table[table["model"] == "factorvae"]
    fig, ax = plt.subplots(figsize=(6.5, 4.3), layout="constrained")
    strengths = sorted(data["strength"].unique())
    position = {s: i for i, s in enumerate(strengths)}
    jitter = np.random.default_rng(0).uniform(-0.08, 0.08, len(data))
    ax.scatter(
        data["strength"].map(position) + jitter,
        data["factor_vae"],
        color=MODEL_COLORS["factorvae"],
        s=25,
        edgecolor="k",
        lw=0.4,
        label="one seed",
    )
    means = data.groupby("strength")["factor_vae"].mean()
    ax.plot([position[s] for s in means.index], means.values, "k-", marker="D", ms=5, label="mean over seeds")
    ax.set_xticks(range(len(strengths)), [strength_tag(s) for s in strengths])
    ax.set_xlim(-0.5, len(strengths) - 0.5)  # one λ too: the seeds sit on their tick
    ax.set_xlabel("FactorVAE λ")
    ax.set_ylabel("FactorVAE metric (evaluation accuracy)")
    fig.suptitle("Figure 5.15 — FactorVAE metric against FactorVAE's λ")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, out_png)


def fig5_16(table: pd.DataFrame, corr: pd.DataFrame, out_png) -> None:
    n_cells = len(table)
    fig, ax = plt.subplots(figsize=(5.5, 4.3), layout="constrained")
    _heatmap(ax, corr, [METRIC_LABELS[m] for m in corr.index], [UNSUPERVISED_LABELS[c] for c in corr.columns])
    fig.suptitle(
        f"Figure 5.16 — Spearman correlation of the metrics\nwith ELBO, reconstruction and KL ({n_cells} models)"
    )
    save_figure(fig, out_png)


def fig5_19(table: pd.DataFrame, corr: pd.DataFrame, out_png) -> None:
    acc_cols = [c for c in downstream_columns(table) if c.startswith("downstream_")]
    sizes = [int(c.removeprefix("downstream_")) for c in acc_cols]
    data = table.dropna(subset=acc_cols)
    n_cells = len(data.groupby(["model", "strength"]))
    fig, (ax_a, ax_e, ax_b) = plt.subplots(
        1,
        3,
        figsize=(12 + max(6, 0.45 * n_cells), 5.6),
        gridspec_kw={"width_ratios": [1.1, 1, 1.1]},
        layout="constrained",
    )
    for model, group in data.groupby("model", sort=False):
        strengths = sorted(group["strength"].unique())
        shades = np.linspace(0.35, 1.0, len(strengths))
        for shade, strength in zip(shades, strengths):
            rows = group[group["strength"] == strength][acc_cols]
            ax_a.errorbar(
                sizes,
                rows.mean(),
                yerr=rows.std(ddof=1) if len(rows) > 1 else None,
                marker="o",
                ms=4,
                capsize=2,
                color=MODEL_COLORS[model],
                alpha=shade,
                label=f"{MODEL_LABELS[model]} {strength_tag(strength)}",
            )
    ax_a.set_xscale("log")
    ax_a.set_xlabel("training points per factor classifier")
    ax_a.set_ylabel("mean test accuracy over the 5 factors")
    ax_a.set_title("(a) downstream accuracy per train size")
    ax_a.legend(fontsize=7, ncol=2)
    ax_a.grid(alpha=0.3)
    if "sample_efficiency" in data:
        cells = data.assign(cell=data.apply(lambda row: _cell_label(row).replace("\n", " "), axis=1))
        palette = {c: MODEL_COLORS[m] for c, m in zip(cells["cell"], cells["model"])}
        sns.stripplot(
            data=cells, x="cell", y="sample_efficiency", hue="cell", palette=palette, ax=ax_e, size=4, legend=False
        )
        ax_e.set_xlabel("model and strength")
        ax_e.set_ylabel("sample efficiency (accuracy ratio)")
        ax_e.set_title("(a, right) sample efficiency, one point per seed")
        ax_e.tick_params(axis="x", labelsize=7, labelrotation=90)
    rows = [
        c.replace("downstream_", "accuracy @ ") if c != "sample_efficiency" else "sample efficiency" for c in corr.index
    ]
    _heatmap(ax_b, corr, rows, [METRIC_LABELS[m] for m in corr.columns])
    ax_b.set_title("(b) Spearman correlation\nwith the metrics")
    fig.suptitle(f"Figure 5.19 — downstream task: gradient-boosted trees on the encoder mean ({len(data)} models)")
    save_figure(fig, out_png)
