"""Every figure of Chapter 5 in one place: its file, its number in the thesis, what draws it and what it needs.

The rules (workflow/rules/figures.smk: one rule per row), ``rule all``, the report, results/README.md, the CLI and
the tests read this list; it imports nothing heavy (the Snakefile reads it on every start-up). Adding a figure: a
drawing function of its family's signature, a row here, a caption in ``workflow/report/<name>.rst``.

The families and what their drawings take (dislab.cli.cmd_figure calls them):
- ``dataset``: ``(data, settings, out_png)``
- ``generation``: ``(model, data, settings, out_png, title)``, one trained model (data: None unless ``needs_data``)
- ``training``: ``(logs, out_png)``, (cell, train_log.csv) pairs
- ``evaluation``: ``(table, correlation, out_png)``, metrics.csv and the Spearman table ``correlation`` names
- ``qualitative``: ``(entries, data, settings, out_png, number)``, (cell, model) pairs

``settings`` is the part of the config's ``figures`` section the figure reads (``settings`` below); ``cells`` says
which trained cells it shows: a key of that section naming them, or ``vae_seeds`` (every seed of the cell
``figures.vae`` names) or ``betavae`` (every β-VAE cell).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

FAMILIES = ("dataset", "generation", "training", "evaluation", "qualitative")
QUALITATIVE_SETTINGS = (
    "random_seed",
    "num_points",
    "active_kl_threshold",
    "traversal",
    "input_image",
    "flip_probabilities",
)


@dataclass(frozen=True)
class Figure:
    name: str  # results/figures/<name>.png and .pdf, workflow/report/<name>.rst, logs/figures/<name>.log
    number: str  # the thesis' figure number
    family: str  # which inputs it draws from and the signature of its drawing (module docstring)
    draw: str  # "module:function" under dislab.figures
    cells: str | None = None  # the trained cells it shows (module docstring)
    settings: tuple = ()  # the keys of the config's figures section it reads
    needs_data: bool = False  # reads the dataset (dataset and qualitative figures always do)
    correlation: str | None = None  # evaluation: the Spearman table (a key of the tables rule) drawn too
    needs_model: str | None = None  # drawn only when the grid has this model
    needs_downstream: bool = False  # drawn only when the grid has downstream cells

    @property
    def png(self) -> str:
        return f"results/figures/{self.name}.png"

    @property
    def reads_data(self) -> bool:
        return self.needs_data or self.family in ("dataset", "qualitative")

    def function(self):
        module, function = self.draw.split(":")
        return getattr(importlib.import_module(f"dislab.figures.{module}"), function)


def _qualitative(name, number, draw, cells):
    return Figure(name, number, "qualitative", f"qualitative:{draw}", cells=cells, settings=QUALITATIVE_SETTINGS)


FIGURES = (
    Figure("fig5_01_dataset", "5.1", "dataset", "dataset:figure_dataset", settings=("random_seed",)),
    Figure(
        "fig5_02_prior_samples",
        "5.2",
        "generation",
        "generation:figure_prior_samples",
        cells="vae",
        settings=("random_seed", "num_prior_samples"),
    ),
    Figure(
        "fig5_03_reconstructions",
        "5.3",
        "generation",
        "generation:figure_reconstructions",
        cells="vae",
        settings=("random_seed", "num_reconstructions"),
        needs_data=True,
    ),
    Figure(
        "fig5_04_reconstruction_per_epoch",
        "5.4",
        "training",
        "training:figure_reconstruction_per_epoch",
        cells="vae_seeds",
    ),
    _qualitative("fig5_05_traversal", "5.5", "traversal_all", "fig5_05"),
    _qualitative("fig5_06_encoder_kde", "5.6", "figure_encoder_kde", "fig5_06"),
    Figure(
        "fig5_07_objective_per_beta",
        "5.7",
        "training",
        "training:figure_objective_per_beta",
        cells="betavae",
        needs_model="betavae",
    ),
    _qualitative("fig5_08_traversal", "5.8", "traversal_active", "fig5_08"),
    Figure(
        "fig5_09_reconstruction_vs_betavae_metric", "5.9", "evaluation", "evaluation:fig5_09", needs_model="betavae"
    ),
    _qualitative("fig5_10_traversals", "5.10", "traversal_active", "fig5_10"),
    Figure("fig5_11_reconstruction_by_model", "5.11", "evaluation", "evaluation:fig5_11"),
    _qualitative("fig5_12_aggregate_posterior", "5.12", "figure_aggregate_posterior", "fig5_12"),
    Figure("fig5_13_metric_correlation", "5.13", "evaluation", "evaluation:fig5_13", correlation="fig5_13"),
    Figure("fig5_14_metric_distribution", "5.14", "evaluation", "evaluation:fig5_14"),
    Figure("fig5_15_factorvae_metric_vs_lambda", "5.15", "evaluation", "evaluation:fig5_15", needs_model="factorvae"),
    Figure("fig5_16_metric_vs_unsupervised", "5.16", "evaluation", "evaluation:fig5_16", correlation="fig5_16"),
    _qualitative("fig5_17_corrupted_inputs", "5.17", "figure_corruption", "fig5_17"),
    _qualitative("fig5_18_domain_shift", "5.18", "figure_domain_shift", "fig5_18"),
    Figure(
        "fig5_19_downstream",
        "5.19",
        "evaluation",
        "evaluation:fig5_19",
        correlation="fig5_19",
        needs_downstream=True,
    ),
)
BY_NAME = {figure.name: figure for figure in FIGURES}


def figures(family: str | None = None, models=None, downstream: bool = True) -> list[Figure]:
    """The figures of ``family`` (all where None) that a grid of ``models`` (every model where None), with or
    without downstream cells, draws."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown figure family {family!r}; the families are {FAMILIES}")
    return [
        f
        for f in FIGURES
        if (family is None or f.family == family)
        and (models is None or f.needs_model is None or f.needs_model in models)
        and (downstream or not f.needs_downstream)
    ]
