"""How close a run comes to the thesis: its numbers beside the thesis' own, and Chapter 5's claims checked.

Numbers: every value Chapter 5 prints that a run can regenerate (``dislab/reference/thesis_values.csv``, each with
its table or figure and page) beside the run's, the difference in units of the thesis' sd and of the run's own seed
sd, and a verdict. A number is *comparable* only where the run's setup is the thesis' (``config/thesis.yaml``, the
official data); otherwise the verdict says what differs. Claims: the qualitative findings of Chapter 5 as checks
on the run's own numbers, PASS / FAIL / NOT RUN with the evidence.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from dislab.atomic import write_text
from dislab.cells import MODEL_LABELS, strength_tag
from dislab.data.grid import FactorGrid
from dislab.data.render import IMAGE_SIZE
from dislab.evaluation.claims import claims
from dislab.evaluation.tables import THESIS_METRICS, collect, spearman
from dislab.training.settings import TrainSettings

THESIS_VALUES = Path(__file__).resolve().parents[1] / "reference" / "thesis_values.csv"
PIXELS = IMAGE_SIZE * IMAGE_SIZE
UNITS = {
    "reconstruction": "nats per image",
    "kl": "nats per image",
    "elbo": "nats per image",
    "active_latents": "latents",
    "sample_efficiency": "accuracy ratio",
}
BOOTSTRAP = 1000


def unit_of(quantity: str) -> str:
    if quantity.startswith("spearman:"):
        return "Spearman ρ"
    if quantity.startswith("downstream_"):
        return "accuracy"
    if quantity.removeprefix("best:") == "mig":
        return "MI / factor entropy"
    return UNITS.get(quantity, "accuracy")  # the β-VAE and FactorVAE metrics are evaluation accuracies


# ---------------------------------------------------------------------------------------------------------------
# The run's setup against the thesis'


def total_steps(config: dict, images: int) -> int:
    """The steps a cell of ``config`` trains on a dataset of ``images``, as the trainer counts them."""
    settings = TrainSettings.from_config(config)
    return settings.total_steps(images // config["model"]["batch_size"])


def _differs(run: dict, thesis: dict, keys: list[str]) -> list[str]:
    return [f"{key} {run.get(key)!r} (thesis {thesis.get(key)!r})" for key in keys if run.get(key) != thesis.get(key)]


@dataclass
class Setup:
    """What in this run differs from the thesis' setup, by what it affects."""

    run: dict
    thesis: dict
    dataset: dict

    @cached_property
    def everything(self) -> list[str]:
        reasons = []
        if self.dataset["source"] not in ("download", "path"):
            reasons.append(f"the renderer's stand-in ({self.dataset['images']:,} images), not the official dSprites")
        steps = total_steps(self.run, self.dataset["images"])
        thesis_steps = total_steps(self.thesis, FactorGrid().num_images)
        if steps != thesis_steps:
            reasons.append(f"{steps:,} training steps a cell, not {thesis_steps:,}")
        model_keys = ["latent_dim", "batch_size", "learning_rate", "adam_betas"]
        reasons += [f"model.{d}" for d in _differs(self.run["model"], self.thesis["model"], model_keys)]
        if self.run["training"]["precision"] != self.thesis["training"]["precision"]:
            reasons.append(f"precision {self.run['training']['precision']} (thesis float32)")
        return reasons

    def metric(self, name: str) -> list[str]:
        run, thesis = self.run["metrics"][name], self.thesis["metrics"][name]
        return [f"metrics.{name}.{d}" for d in _differs(run, thesis, sorted(thesis))]

    def model(self, model: str) -> list[str]:
        if model == "all":
            return []
        run, thesis = self.run["models"].get(model, {}), self.thesis["models"].get(model, {})
        options = sorted((set(run) | set(thesis)) - {"strengths"})
        return [f"models.{model}.{d}" for d in _differs(run, thesis, options)]

    def grid(self, model: str) -> list[str]:
        run = self.run["models"].get(model, {}).get("strengths")
        thesis = self.thesis["models"].get(model, {}).get("strengths")
        if run == thesis:
            return []
        return [f"another grid of {MODEL_LABELS.get(model, model)} ({strengths(run)}; thesis {strengths(thesis)})"]

    @cached_property
    def cells(self) -> list[str]:
        reasons = [r for model in self.thesis["models"] for r in self.grid(model)]
        extra = sorted(set(self.run["models"]) - set(self.thesis["models"]))
        if extra:
            reasons.append("models beyond the thesis': " + ", ".join(extra))
        if len(self.run["seeds"]) != len(self.thesis["seeds"]):
            reasons.append(f"{len(self.run['seeds'])} seeds a cell, not {len(self.thesis['seeds'])}")
        return reasons

    def downstream(self) -> list[str]:
        run, thesis = self.run["downstream"], self.thesis["downstream"]
        return [f"downstream.{d}" for d in _differs(run, thesis, ["models", "classifier", "num_test"])]


def strengths(values) -> str:
    return "none" if not values else " ".join(strength_tag(v) for v in values)


# ---------------------------------------------------------------------------------------------------------------
# Numbers


def _stats(values: pd.Series) -> tuple[float, float, int]:
    values = values.dropna()
    sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return (float(values.mean()) if len(values) else math.nan), sd, len(values)


def spearman_sd(table: pd.DataFrame, a: str, b: str, seed: int = 0) -> float:
    """Bootstrap sd of Spearman's ρ over the run's cells (resampled with replacement)."""
    pairs = table[[a, b]].dropna().to_numpy()
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP):
        sample = pairs[rng.integers(len(pairs), size=len(pairs))]
        if np.ptp(sample[:, 0]) > 0 and np.ptp(sample[:, 1]) > 0:
            draws.append(pd.DataFrame(sample).corr(method="spearman").iloc[0, 1])
    return float(np.std(draws, ddof=1)) if len(draws) > 1 else math.nan


def spearman_se(n: int) -> float:
    """Standard error of Spearman's ρ near 0 for n points (Fieller, Hartley and Pearson 1957)."""
    return math.sqrt(1.06 / (n - 3)) if n > 3 else math.nan


def verdict(diff_thesis_sd: float, diff_run_sd: float, thesis_sd: float) -> str:
    diff = diff_thesis_sd if not math.isnan(thesis_sd) else diff_run_sd
    if math.isnan(diff):
        return "no sd to judge by"
    return "within 1 sd" if abs(diff) <= 1 else "within 2 sd" if abs(diff) <= 2 else "outside 2 sd"


def _ratio(diff: float, sd: float) -> float:
    if math.isnan(diff) or math.isnan(sd):
        return math.nan
    if sd == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / sd


def _row_value(row: pd.Series, table: pd.DataFrame, setup: Setup) -> dict:
    """The run's value of one thesis row, and what keeps it from comparing."""
    quantity, model = row["quantity"], row["model"]
    strength = row["strength"]
    reasons = setup.everything + setup.model(model)
    out = {"run_strength": ""}
    if quantity.startswith("spearman:"):
        a, b = quantity.removeprefix("spearman:").split("~")
        reasons += setup.metric(a) + setup.cells
        if len(table) < 4:
            return {**out, "reasons": reasons, "missing": f"{len(table)} cells are too few for a rank correlation"}
        return {
            **out,
            "run": float(spearman(table, [a], [b]).iloc[0, 0]),
            "run_sd": spearman_sd(table, a, b),
            "run_n": len(table),
            "reasons": reasons,
            "thesis_sd": spearman_se(int(row["thesis_seeds"])),
        }
    cells = table[table["model"] == model] if model != "all" else table
    if cells.empty:
        return {**out, "reasons": reasons, "missing": f"{MODEL_LABELS.get(model, 'all cells')} is not in this run"}
    if quantity.startswith("best:"):
        metric = quantity.removeprefix("best:")
        best = cells.groupby("strength")[metric].mean().idxmax()
        values = cells[cells["strength"] == best][metric]
        reasons += setup.metric(metric) + setup.grid(model)
        out["run_strength"] = strength_tag(best)
    elif quantity.startswith("downstream_") or quantity == "sample_efficiency":
        reasons += setup.downstream()
        if quantity == "sample_efficiency":
            low, high = setup.run["downstream"]["sample_efficiency"]
            if [low, high] != setup.thesis["downstream"]["sample_efficiency"]:
                reasons.append(f"this run's efficiency is accuracy({low:,}) / accuracy({high:,})")
        if quantity not in cells or cells[quantity].isna().all():
            return {
                **out,
                "reasons": reasons,
                "missing": f"this run has no {quantity} (downstream.train_sizes, downstream.models)",
            }
        reasons += setup.grid(model)
        values = cells[quantity]
    else:
        if pd.isna(strength):
            reasons.append("the thesis does not state the strength")
            return {**out, "reasons": reasons, "missing": "the thesis does not state the strength"}
        values = cells[cells["strength"] == float(strength)][quantity]
        if values.empty:
            return {
                **out,
                "reasons": reasons,
                "missing": f"strength {strength_tag(strength)} is not in this run's grid",
            }
        if quantity in THESIS_METRICS:
            reasons += setup.metric(quantity)
    mean, sd, n = _stats(values)
    if quantity == "reconstruction":
        reasons.append("the thesis does not state its unit (see Units)")
    if n < int(row["thesis_seeds"]) and not quantity.startswith("spearman:"):
        reasons.append(f"{n} seeds, not {int(row['thesis_seeds'])}")
    return {**out, "run": mean, "run_sd": sd, "run_n": n, "reasons": reasons}


def numbers(table: pd.DataFrame, thesis_values: pd.DataFrame, setup: Setup) -> pd.DataFrame:
    rows = []
    for _, row in thesis_values.iterrows():
        got = _row_value(row, table, setup)
        thesis_sd = row["thesis_sd"] if not pd.isna(row["thesis_sd"]) else got.get("thesis_sd", math.nan)
        run, run_sd = got.get("run", math.nan), got.get("run_sd", math.nan)
        diff = run - row["thesis"]
        by_thesis, by_run = _ratio(diff, thesis_sd), _ratio(diff, run_sd)
        reasons = list(dict.fromkeys(got["reasons"]))
        shared = [r for r in reasons if r in setup.everything or r in setup.cells]
        if "missing" in got:
            judged = "not run"
            reasons = [got["missing"]]
        elif reasons:
            judged = "not comparable"
        else:
            judged = verdict(by_thesis, by_run, thesis_sd)
        rows.append(
            {
                "source": row["source"],
                "page": int(row["page"]),
                "quantity": row["quantity"],
                "model": row["model"],
                "strength": "" if pd.isna(row["strength"]) else strength_tag(row["strength"]),
                "unit": unit_of(row["quantity"]),
                "thesis": row["thesis"],
                "thesis_sd": thesis_sd,
                "thesis_n": int(row["thesis_seeds"]),
                "run": run,
                "run_sd": run_sd,
                "run_n": got.get("run_n", 0),
                "run_strength": got["run_strength"],
                "diff_thesis_sd": by_thesis,
                "diff_run_sd": by_run,
                "verdict": judged,
                "reason": "; ".join(reasons),
                "own_reason": "; ".join(r for r in reasons if r not in shared) if judged != "not run" else reasons[0],
                "shares_setup": bool(shared) and judged != "not run",
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# The report


def units_text(table: pd.DataFrame) -> str:
    vae = table[(table["model"] == "betavae") & (table["strength"] == 1)]["reconstruction"]
    lines = [
        "dislab reports reconstruction, KL and ELBO in **nats per image**: the Bernoulli negative log-likelihood "
        f"summed over the {PIXELS:,} pixels and the closed-form KL summed over the latents, each averaged over "
        f"images (divide by {PIXELS:,} for nats per pixel). The metrics are accuracies in [0, 1] (MIG: mutual "
        "information over the factor's entropy), ρ is Spearman's rank correlation.",
        "The thesis labels no unit on its loss axes (Figures 5.4, 5.7, 5.9, 5.11); its one printed loss is the "
        'VAE\'s "reconstruction error of 0.274" after 30 epochs (§5.2).',
    ]
    if len(vae):
        per_image = vae.mean()
        lines.append(
            f"This run's VAE (β = 1) reconstructs at {per_image:.1f} nats per image = {per_image / PIXELS:.4f} nats "
            f"per pixel; the thesis' 0.274 is {0.274 / per_image:.2g}× the one and {0.274 * PIXELS / per_image:.2g}× "
            "the other. The text supports neither scale (nor any other it names), so no conversion is made and the "
            "thesis' loss values are *not comparable*."
        )
    return "\n\n".join(lines)


def _fmt(value, digits=3) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.{digits}g}" if abs(value) >= 100 else f"{value:.{digits}f}"
    return str(value)


def markdown(nums: pd.DataFrame, checks: pd.DataFrame, setup: Setup, table: pd.DataFrame) -> str:
    everything = setup.everything + setup.cells
    reading = setup.run["models"].get("btcvae", {}).get("strength_as", "lambda")
    head = [
        "# Fidelity: this run against the thesis",
        "",
        f"{len(table)} cells; {', '.join(f'{MODEL_LABELS[m]} ({strengths(s)})' for m, s in _grid(table))}; "
        f"seeds {', '.join(str(s) for s in setup.run['seeds'])}.",
        "",
        "**Setup.** "
        + (
            "The run's setup is the thesis' (config/thesis.yaml on the official data): its numbers are comparable."
            if not everything
            else "Where the run differs from the thesis' setup (config/thesis.yaml, the official data), "
            "its numbers are *not comparable*: " + "; ".join(everything) + "."
        ),
        "",
        f"**β-TCVAE's strength** was read as **{reading}** (`models.btcvae.strength_as`): "
        + (
            "the VAE's loss plus λ·TC, the thesis' §4.3 and the reading of its Table 5.4 that this project follows."
            if reading == "lambda"
            else "Chen et al.'s β: the VAE's loss plus (β − 1)·TC, as in disentanglement_lib (§4.3 adds λ·TC)."
        ),
        "",
        "## Units",
        "",
        units_text(table),
        "",
        "## Numbers",
        "",
        "Each number the thesis prints that a run can regenerate, with the difference from it in units of the "
        "thesis' sd and of this run's seed sd (for ρ: the thesis' standard error for its 170 cells, and this run's "
        "bootstrap sd over cells). Verdicts: within 1 sd, within 2 sd, outside 2 sd (of the thesis' sd where it "
        'gives one, else of the run\'s), *not comparable* (the reason: "setup" for the differences above, then '
        "the row's own), *not run*. fidelity.csv holds every reason in full.",
        "",
    ]
    shown = nums.copy()
    shown["strength"] = [s or "" for s in shown["strength"]]
    shown["thesis"] = [
        _fmt(v) + (f" ± {_fmt(s)}" if not math.isnan(s) else "") for v, s in zip(nums["thesis"], nums["thesis_sd"])
    ]
    shown["run"] = [
        _fmt(v) + (f" ± {_fmt(s)}" if not math.isnan(s) else "") + (f" (n {n})" if n else "")
        for v, s, n in zip(nums["run"], nums["run_sd"], nums["run_n"])
    ]
    shown["Δ/sd thesis"] = [_fmt(v, 2) for v in nums["diff_thesis_sd"]]
    shown["Δ/sd run"] = [_fmt(v, 2) for v in nums["diff_run_sd"]]
    shown["source"] = [f"{s}, p. {p}" for s, p in zip(nums["source"], nums["page"])]
    shown["model"] = [MODEL_LABELS.get(m, "all cells") for m in nums["model"]]
    shown["run's best"] = nums["run_strength"]
    shown["reason"] = [
        "; ".join(([f"setup{'' if own else ' (above)'}"] if shares else []) + ([own] if own else []))
        for own, shares in zip(nums["own_reason"], nums["shares_setup"])
    ]
    columns = [
        "source",
        "quantity",
        "model",
        "strength",
        "run's best",
        "unit",
        "thesis",
        "run",
        "Δ/sd thesis",
        "Δ/sd run",
        "verdict",
        "reason",
    ]
    body = shown[columns].to_markdown(index=False, disable_numparse=True)
    counts = checks["status"].value_counts()
    claims_head = [
        "",
        "",
        "## Claims",
        "",
        "Chapter 5's findings, checked on this run's own numbers: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("PASS", "FAIL", "NOT RUN"))
        + ".",
        "",
    ]
    claim_body = checks[["source", "text", "status", "evidence"]].to_markdown(index=False, disable_numparse=True)
    return "\n".join(head) + "\n" + body + "\n".join(claims_head) + "\n" + claim_body + "\n"


def _grid(table: pd.DataFrame):
    return [(m, sorted(g["strength"].unique())) for m, g in table.groupby("model", sort=False)]


def write_fidelity(
    metrics,
    downstream,
    dataset_json,
    run_config: dict,
    thesis_config: dict,
    thesis_values,
    out: dict,
    active_kl_threshold: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fidelity table, the claims and their page from the (cell, result file) pairs of ``metrics`` and
    ``downstream``, the dataset check's summary and the thesis' printed values; ``out``: csv, claims and md paths."""
    table = collect(metrics, downstream, active_kl_threshold=active_kl_threshold)
    setup = Setup(run_config, thesis_config, json.loads(Path(dataset_json).read_text()))
    nums = numbers(table, pd.read_csv(thesis_values), setup)
    checks = claims(table, setup)
    write_text(out["csv"], nums.drop(columns=["own_reason", "shares_setup"]).to_csv(index=False))
    write_text(out["claims"], checks.to_csv(index=False))
    write_text(out["md"], markdown(nums, checks, setup, table))
    return nums, checks
