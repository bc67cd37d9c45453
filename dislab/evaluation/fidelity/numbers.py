"""Every number Chapter 5 prints that a run regenerates (``dislab/reference/thesis_values.csv``) beside the run's,
judged by the standard error of their difference.

A row of the reference is of one ``kind``: ``mean`` (a mean over seeds of one strength; ``all``: over the model's
whole grid, as the thesis pooled it; empty: a strength the thesis does not state), ``best`` (Table 5.6: the mean of
the strength with the highest mean), ``spearman`` (a rank correlation over every cell) or ``count`` (a number that
has no spread). A number is *comparable* only where nothing that affects it differs from the thesis' setup
(dislab.evaluation.fidelity.setup); otherwise its reasons say what differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from dislab.cells import MODEL_LABELS, strength_tag
from dislab.evaluation.fidelity.setup import Setup
from dislab.evaluation.fidelity.stats import Difference, mean_sd_n, rho_difference, spearman, welch_from
from dislab.evaluation.tables import THESIS_METRICS, UNSUPERVISED

UNITS = {
    "reconstruction": "nats per image",
    "kl": "nats per image",
    "elbo": "nats per image",
    "active_latents": "latents",
    "sample_efficiency": "accuracy ratio",
    "mig": "MI / factor entropy",
}


def load_reference(path) -> list[dict]:
    """The rows of thesis_values.csv, typed: ``strength`` stays text ("3", "all", or "" when the thesis does not
    state it), ``thesis_sd`` is NaN where the thesis prints none, ``n_printed`` says whether the thesis prints its
    count of seeds or cells (else dislab infers it)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for row in frame.to_dict("records"):
        row["page"], row["thesis_n"] = int(row["page"]), int(row["thesis_n"])
        row["thesis"] = float(row["thesis"])
        row["thesis_sd"] = float(row["thesis_sd"]) if row["thesis_sd"] else math.nan
        row["n_printed"] = row["n_printed"] == "yes"
        rows.append(row)
    return rows


def unit_of(row) -> str:
    if row["unit"]:
        return row["unit"]
    if row["kind"] == "spearman":
        return "Spearman ρ"
    return UNITS.get(row["quantity"], "accuracy")  # the β-VAE, FactorVAE and downstream scores are accuracies


@dataclass
class RunSide:
    """The run's side of one row: its value (mean, sd and count) or why it has none, and what keeps it from
    comparing (``reasons``), besides remarks that do not (``notes``)."""

    values: pd.Series | None = None
    rho: float = math.nan
    n: int = 0
    strength: str = ""
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: str = ""


def _sizes(setup: Setup, quantity: str) -> list[str]:
    """What differs in the sample a quantity is measured on."""
    if quantity in THESIS_METRICS:
        return setup.metric(quantity)
    if quantity in UNSUPERVISED:
        return setup.metric("unsupervised")
    if quantity == "active_latents":
        return setup.metric("unsupervised") + setup.active_threshold
    if quantity.startswith("downstream_") or quantity == "sample_efficiency":
        return setup.downstream
    return []


def _cells(table: pd.DataFrame, model: str) -> pd.DataFrame:
    return table if model == "all" else table[table["model"] == model]


def _label(model: str) -> str:
    return MODEL_LABELS.get(model, "all cells")


def run_mean(row, table: pd.DataFrame, setup: Setup) -> RunSide:
    quantity, model, strength = row["quantity"], row["model"], row["strength"]
    side = RunSide(reasons=setup.everything + setup.model(model) + _sizes(setup, quantity))
    cells = _cells(table, model)
    if cells.empty or quantity not in cells or cells[quantity].isna().all():
        side.missing = (
            f"{_label(model)} has no {quantity} in this run"
            if not cells.empty
            else f"{_label(model)} is not in this run"
        )
        return side
    if not strength:
        side.reasons.append(
            f"the thesis does not state the strength (the run's value pools every strength of {_label(model)})"
        )
        side.values = cells[quantity]
        side.strength = "all"
    elif strength == "all":
        side.reasons += setup.grid(model)
        side.values = cells[quantity]
    else:
        side.values = cells[cells["strength"] == float(strength)][quantity]
        if side.values.dropna().empty:
            side.missing = f"strength {strength_tag(strength)} is not in this run's grid"
    if row["unit"] == "unstated":
        side.reasons.append("the thesis does not state its unit (see Units)")
    return side


def run_best(row, table: pd.DataFrame, setup: Setup) -> RunSide:
    quantity, model = row["quantity"], row["model"]
    side = RunSide(reasons=setup.everything + setup.model(model) + _sizes(setup, quantity) + setup.grid(model))
    cells = _cells(table, model)
    if cells.empty:
        side.missing = f"{_label(model)} is not in this run"
        return side
    best = cells.groupby("strength")[quantity].mean().idxmax()
    side.values, side.strength = cells[cells["strength"] == best][quantity], strength_tag(best)
    if side.strength != strength_tag(row["strength"]):
        side.notes.append(f"the run's best strength is {side.strength}, the thesis' {strength_tag(row['strength'])}")
    return side


def run_spearman(row, table: pd.DataFrame, setup: Setup) -> RunSide:
    a, b = row["quantity"].split("~")
    side = RunSide(reasons=setup.everything + setup.model("all") + setup.metric(a) + _sizes(setup, b) + setup.cells)
    side.rho, side.n = spearman(table[a], table[b]) if a in table and b in table else (math.nan, 0)
    if math.isnan(side.rho):
        side.missing = f"ρ is undefined over this run's {side.n} cells (too few, or a score is constant)"
    return side


def run_count(row, table: pd.DataFrame, setup: Setup) -> RunSide:
    quantity = row["quantity"]
    side = RunSide(reasons=[r for r in setup.everything if r.startswith("model.latent_dim")])  # the network's size
    if quantity not in table or table[quantity].isna().all():
        side.missing = f"this run records no {quantity}"
        return side
    side.values = table[quantity].dropna().drop_duplicates()
    if len(side.values) > 1:
        side.notes.append(f"the run's cells differ in {quantity}: {', '.join(map(str, side.values))}")
    return side


RUN_SIDES = {"mean": run_mean, "best": run_best, "spearman": run_spearman, "count": run_count}


def judge(row, side: RunSide) -> dict:
    """The comparison of one row: values, the difference and its standard error, the effect size, the verdict."""
    thesis, thesis_n, thesis_sd = row["thesis"], row["thesis_n"], row["thesis_sd"]
    pooled = row["kind"] == "spearman" or row["strength"] in ("all", "")
    counted = "cells" if pooled else "seeds"
    notes = list(side.notes)
    if not row["n_printed"]:
        counts = f"{thesis_n} {counted} are" if thesis_n != 1 else f"one {counted[:-1]} is"
        notes.append(f"assumption: the thesis' {counts} inferred, not printed")
    out = {"run": math.nan, "run_sd": math.nan, "run_n": side.n, "diff": Difference(math.nan, math.nan)}
    if side.missing:
        return {**out, "verdict": "not run", "reasons": [side.missing], "notes": notes, "effect": math.nan}
    if row["kind"] == "spearman":
        out.update(run=side.rho, diff=rho_difference(side.rho, side.n, thesis, thesis_n))
        effect = side.rho - thesis
    else:
        mean, sd, n = mean_sd_n(side.values)
        out.update(run=mean, run_sd=sd, run_n=n)
        if row["kind"] == "count":
            effect = mean - thesis
        else:
            if math.isnan(thesis_sd):
                notes.append("the thesis prints no sd: the run's stands in for it")
            out["diff"] = welch_from(mean, sd, n, thesis, sd if math.isnan(thesis_sd) else thesis_sd, thesis_n)
            scale = thesis_sd if not math.isnan(thesis_sd) else sd
            effect = (mean - thesis) / scale if scale and not math.isnan(scale) else math.nan
            if n < thesis_n:
                side.reasons.append(f"{n} {counted if n != 1 else counted[:-1]}, not {thesis_n}")
    reasons = list(dict.fromkeys(side.reasons))
    if reasons:
        verdict = "not comparable"
    elif row["kind"] == "count":
        verdict = "equal" if out["run"] == thesis else "differs"
    else:
        verdict = band(out["diff"].z)
    return {**out, "verdict": verdict, "reasons": reasons, "notes": notes, "effect": effect}


def band(z: float) -> str:
    if math.isnan(z):
        return "no SE to judge by"
    return "within 1 SE" if abs(z) <= 1 else "within 2 SE" if abs(z) <= 2 else "beyond 2 SE"


def numbers(table: pd.DataFrame, reference: list[dict], setup: Setup) -> pd.DataFrame:
    """One row per reference row: the thesis' value, the run's, their difference and its standard error (SE: the
    difference of two means from both sides' spreads and seed counts, Welch; two ρ on Fisher's z with both sides'
    errors), Δ/sd as an effect size, the verdict and its reasons."""
    shared = set(setup.everything) | set(setup.cells)
    rows = []
    for row in reference:
        side = RUN_SIDES[row["kind"]](row, table, setup)
        got = judge(row, side)
        diff = got["diff"]
        rows.append(
            {
                "source": row["source"],
                "page": row["page"],
                "kind": row["kind"],
                "quantity": row["quantity"],
                "model": row["model"],
                "strength": strength_label(row["strength"]),
                "unit": unit_of(row),
                "thesis": row["thesis"],
                "thesis_sd": row["thesis_sd"],
                "thesis_n": row["thesis_n"],
                "run": got["run"],
                "run_sd": got["run_sd"],
                "run_n": got["run_n"],
                "run_strength": side.strength,
                "diff": diff.estimate,
                "diff_se": diff.se,
                "diff_in_se": diff.z,
                "effect_size": got["effect"],
                "verdict": got["verdict"],
                "reason": "; ".join(got["reasons"]),
                "note": "; ".join(got["notes"]),
                "own_reason": "; ".join(r for r in got["reasons"] if r not in shared),
                "shares_setup": any(r in shared for r in got["reasons"]) and got["verdict"] != "not run",
            }
        )
    return pd.DataFrame(rows)


def strength_label(strength: str) -> str:
    return "not stated" if not strength else strength if strength == "all" else strength_tag(strength)
