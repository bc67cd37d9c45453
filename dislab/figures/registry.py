"""Every figure of Chapter 5 in one place: its file, its number in the thesis, what draws it and what it needs.

The rules, ``rule all``, the report, results/README.md and the CLI read this list; it imports nothing heavy (the
Snakefile reads it on every start-up). Adding a figure: a drawing function, a row here, a caption in
``workflow/report/<name>.rst``. Evaluation figures (drawn from metrics.csv) and qualitative ones (drawn from
trained models) then get their rule by themselves; a dataset or training figure also needs its rule in
``workflow/rules/`` (their inputs differ from figure to figure).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

FAMILIES = ("dataset", "training", "evaluation", "qualitative")


@dataclass(frozen=True)
class Figure:
    name: str  # results/figures/<name>.png and .pdf, workflow/report/<name>.rst, logs/figures/<name>.log
    number: str  # the thesis' figure number
    family: str  # dataset, training, evaluation or qualitative: which rule shape draws it
    draw: str  # "module:function" under dislab.figures
    cells: str | None = None  # qualitative: the key of the config's figures section that names the cells shown
    correlation: str | None = None  # evaluation: the Spearman table (a key of the tables rule) drawn too
    needs_model: str | None = None  # drawn only when the grid has this model
    needs_downstream: bool = False  # drawn only when the grid has downstream cells

    @property
    def png(self) -> str:
        return f"results/figures/{self.name}.png"

    def function(self):
        module, function = self.draw.split(":")
        return getattr(importlib.import_module(f"dislab.figures.{module}"), function)


FIGURES = (
    Figure("fig5_01_dataset", "5.1", "dataset", "dataset:figure_dataset"),
    Figure("fig5_02_prior_samples", "5.2", "training", "generation:figure_prior_samples"),
    Figure("fig5_03_reconstructions", "5.3", "training", "generation:figure_reconstructions"),
    Figure("fig5_04_reconstruction_per_epoch", "5.4", "training", "training:figure_reconstruction_per_epoch"),
    Figure("fig5_05_traversal", "5.5", "qualitative", "qualitative:traversal_all", cells="fig5_05"),
    Figure("fig5_06_encoder_kde", "5.6", "qualitative", "qualitative:figure_encoder_kde", cells="fig5_06"),
    Figure(
        "fig5_07_objective_per_beta",
        "5.7",
        "training",
        "training:figure_objective_per_beta",
        needs_model="betavae",
    ),
    Figure("fig5_08_traversal", "5.8", "qualitative", "qualitative:traversal_active", cells="fig5_08"),
    Figure(
        "fig5_09_reconstruction_vs_betavae_metric", "5.9", "evaluation", "evaluation:fig5_09", needs_model="betavae"
    ),
    Figure("fig5_10_traversals", "5.10", "qualitative", "qualitative:traversal_active", cells="fig5_10"),
    Figure("fig5_11_reconstruction_by_model", "5.11", "evaluation", "evaluation:fig5_11"),
    Figure(
        "fig5_12_aggregate_posterior", "5.12", "qualitative", "qualitative:figure_aggregate_posterior", cells="fig5_12"
    ),
    Figure("fig5_13_metric_correlation", "5.13", "evaluation", "evaluation:fig5_13", correlation="fig5_13"),
    Figure("fig5_14_metric_distribution", "5.14", "evaluation", "evaluation:fig5_14"),
    Figure("fig5_15_factorvae_metric_vs_lambda", "5.15", "evaluation", "evaluation:fig5_15", needs_model="factorvae"),
    Figure("fig5_16_metric_vs_unsupervised", "5.16", "evaluation", "evaluation:fig5_16", correlation="fig5_16"),
    Figure("fig5_17_corrupted_inputs", "5.17", "qualitative", "qualitative:figure_corruption", cells="fig5_17"),
    Figure("fig5_18_domain_shift", "5.18", "qualitative", "qualitative:figure_domain_shift", cells="fig5_18"),
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
