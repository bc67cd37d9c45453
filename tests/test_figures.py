"""The evaluation figures read at every grid size: no overlapping labels, no axis offsets, seeds on their ticks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dislab.evaluation.tables import THESIS_METRICS, UNSUPERVISED, downstream_columns, spearman
from dislab.figures import evaluation
from dislab.figures.common import plt
from dislab.figures.registry import FIGURES, figures

GRIDS = {
    "tiny": ({"betavae": [1, 3], "factorvae": [10], "btcvae": [6], "dipvae": [10]}, 1),
    "default": ({"betavae": [1, 3, 10, 30], "factorvae": [10, 100], "btcvae": [1, 10], "dipvae": [1, 10]}, 3),
    "thesis": (
        {
            "betavae": [1, 3, 10, 30],
            "factorvae": [5, 10, 25, 50, 100],
            "btcvae": [1, 3, 6, 10],
            "dipvae": [1, 3, 10, 30],
        },
        10,
    ),
}


def synthetic_table(grid: dict, seeds: int) -> pd.DataFrame:
    """Scores of the right shape; reconstructions alike to the fifth digit, as a run of 24 steps makes them."""
    rng = np.random.default_rng(0)
    rows = []
    for model, strengths in grid.items():
        for strength, seed in itertools.product(strengths, range(seeds)):
            row = {
                "model": model,
                "strength": float(strength),
                "seed": seed,
                "beta_vae": rng.uniform(0.6, 0.9),
                "factor_vae": rng.uniform(0.5, 0.8),
                "mig": rng.uniform(0, 0.3),
                "kl": rng.uniform(5, 25),
                "reconstruction": 2668.9 + rng.uniform(0, 0.01),
            }
            row["elbo"] = -row["reconstruction"] - row["kl"]
            for size, accuracy in zip((10, 100, 1000, 10000), (0.3, 0.45, 0.6, 0.72)):
                row[f"downstream_{size}"] = accuracy + rng.normal(0, 0.02)
            row["sample_efficiency"] = row["downstream_100"] / row["downstream_10000"]
            rows.append(row)
    return pd.DataFrame(rows)


def _overlaps(fig) -> list[tuple[str, str]]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        if not ax.axison:  # an image grid: its title alone is drawn
            texts += [ax.title] if ax.title.get_text() else []
            continue
        (x_low, x_high), (y_low, y_high) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        shown = [t for t in ax.get_xticklabels() if x_low <= t.get_position()[0] <= x_high]
        shown += [t for t in ax.get_yticklabels() if y_low <= t.get_position()[1] <= y_high]
        texts += [t for t in shown if t.get_text() and t.get_visible()]
        texts += [label for label in (ax.xaxis.label, ax.yaxis.label, ax.title) if label.get_text()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


@pytest.mark.parametrize("size", list(GRIDS))
def test_evaluation_figures_read_at_every_grid_size(size, monkeypatch, tmp_path):
    drawn = {}
    monkeypatch.setattr(evaluation, "save_figure", lambda fig, out: drawn.__setitem__(Path(out).stem, fig))
    table = synthetic_table(*GRIDS[size])
    correlations = {
        "fig5_13_metric_correlation": spearman(table, THESIS_METRICS, THESIS_METRICS),
        "fig5_16_metric_vs_unsupervised": spearman(table, THESIS_METRICS, UNSUPERVISED),
        "fig5_19_downstream": spearman(table, downstream_columns(table), THESIS_METRICS),
    }
    for figure in figures("evaluation"):
        figure.function()(table, correlations.get(figure.name), tmp_path / f"{figure.name}.png")
    assert set(drawn) == {f.name for f in figures("evaluation")}
    for name, fig in drawn.items():
        assert _overlaps(fig) == [], name
        for ax in fig.axes:
            assert ax.yaxis.get_offset_text().get_text() == "", name  # e.g. "+2.66893e3"
            assert ax.xaxis.get_offset_text().get_text() == "", name
    ax = drawn["fig5_15_factorvae_metric_vs_lambda"].axes[0]
    seeds_x = ax.collections[0].get_offsets()[:, 0]
    low, high = ax.get_xlim()
    assert low < seeds_x.min() and seeds_x.max() < high and high - low >= len(GRIDS[size][0]["factorvae"]) - 0.01
    assert np.all(np.abs(seeds_x - np.round(seeds_x)) < 0.1)  # each seed beside its own λ's tick
    plt.close("all")


def test_the_registry_names_every_figure_once_with_a_caption_and_a_drawing():
    from conftest import REPO

    assert [f.number for f in FIGURES] == [f"5.{k}" for k in range(1, 20)]  # Chapter 5's figures, each once
    for figure in FIGURES:
        assert figure.name.startswith(f"fig5_{int(figure.number.split('.')[1]):02d}_"), figure.name
        assert (REPO / "workflow" / "report" / f"{figure.name}.rst").is_file(), figure.name
        assert callable(figure.function()), figure.name
    assert {f.name for f in figures("evaluation", models=["factorvae"], downstream=False)} == {
        "fig5_11_reconstruction_by_model",
        "fig5_13_metric_correlation",
        "fig5_14_metric_distribution",
        "fig5_15_factorvae_metric_vs_lambda",
        "fig5_16_metric_vs_unsupervised",
    }


def test_the_dataset_and_generation_figures_read(monkeypatch, tmp_path, tiny_data):
    import torch

    from dislab.figures import dataset, generation
    from dislab.models.networks import VAE

    drawn = {}
    for module in (dataset, generation):
        monkeypatch.setattr(module, "save_figure", lambda fig, out: drawn.__setitem__(Path(out).stem, fig))
    torch.manual_seed(0)
    model = VAE(10).eval()
    settings = {"random_seed": 0, "num_prior_samples": 200, "num_reconstructions": 10}
    dataset.figure_dataset(tiny_data, settings, tmp_path / "fig5_01.png")
    generation.figure_prior_samples(model, None, settings, tmp_path / "fig5_02.png", "an untrained VAE")
    generation.figure_reconstructions(model, tiny_data, settings, tmp_path / "fig5_03.png", "an untrained VAE")
    assert set(drawn) == {"fig5_01", "fig5_02", "fig5_03"}
    for name, fig in drawn.items():
        assert _overlaps(fig) == [], name
    assert "stand-in" in drawn["fig5_01"]._suptitle.get_text()  # the renderer made it, and the title says so
    plt.close("all")
