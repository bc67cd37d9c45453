"""Chapter 5's qualitative findings as checks on a run's own numbers: each PASS, FAIL or NOT RUN, with the evidence.

A check takes the run's table (one row per cell: the metrics, the unsupervised scores, ``active_latents`` and the
downstream accuracies) and says NOT RUN, with what is missing, where the run's grid cannot test it. Adding a claim
is a function and a row of ``CLAIMS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dislab.cells import MODEL_LABELS, strength_tag
from dislab.evaluation.tables import THESIS_METRICS, UNSUPERVISED, downstream_columns, spearman

MIN_CELLS = 6  # fewest cells for a rank correlation claim


@dataclass
class Claim:
    name: str
    source: str
    text: str
    status: str
    evidence: str


def _means(cells: pd.DataFrame, column: str) -> pd.Series:
    return cells.groupby("strength")[column].mean().sort_index()


def _listing(series: pd.Series, fmt: str = ".3g", key=strength_tag) -> str:
    return ", ".join(f"{key(k)}: {v:{fmt}}" for k, v in series.items())


def _monotone(table, model, column, increasing: bool, label: str) -> tuple[str, str]:
    cells = table[table["model"] == model]
    if cells["strength"].nunique() < 2:
        return "NOT RUN", f"needs two strengths of {MODEL_LABELS[model]}; this run has {cells['strength'].nunique()}"
    means = _means(cells, column)
    steps = np.diff(means.to_numpy())
    ok = bool(np.all(steps > 0) if increasing else np.all(steps < 0))
    return ("PASS" if ok else "FAIL"), f"{label} by strength: {_listing(means)}"


def claim_reconstruction_worsens(table, setup):
    return _monotone(table, "betavae", "reconstruction", True, "mean reconstruction (nats per image)")


def claim_kl_falls(table, setup):
    return _monotone(table, "betavae", "kl", False, "mean KL (nats per image)")


def claim_fewer_active(table, setup):
    cells = table[table["model"] == "betavae"]
    if cells["strength"].nunique() < 2:
        return "NOT RUN", "needs two β"
    means = _means(cells, "active_latents")
    ok = bool(np.all(np.diff(means.to_numpy()) <= 0) and means.iloc[-1] < means.iloc[0])
    return ("PASS" if ok else "FAIL"), f"mean active latents by β: {_listing(means, '.2g')}"


def claim_passive_latents(table, setup):
    cells = table[(table["model"] == "betavae") & (table["strength"] > 1)]
    if cells.empty:
        return "NOT RUN", "needs a β > 1"
    means = _means(cells, "active_latents")
    dim = setup.run["model"]["latent_dim"]
    ok = bool((means < dim).all())
    return ("PASS" if ok else "FAIL"), f"mean active latents of {dim} by β: {_listing(means, '.2g')}"


def claim_factorvae_keeps_reconstruction(table, setup):
    beta = table[(table["model"] == "betavae") & (table["strength"] > 1)]
    factor = table[table["model"] == "factorvae"]
    if beta.empty or factor.empty:
        return "NOT RUN", "needs β-VAE with a β > 1 and FactorVAE"
    top_beta, top_lambda = beta["strength"].max(), factor["strength"].max()
    rb = beta[beta["strength"] == top_beta]["reconstruction"].mean()
    rf = factor[factor["strength"] == top_lambda]["reconstruction"].mean()
    return ("PASS" if rf < rb else "FAIL"), (
        f"mean reconstruction: FactorVAE λ = {strength_tag(top_lambda)} {rf:.3g}, "
        f"β-VAE β = {strength_tag(top_beta)} {rb:.3g} nats per image"
    )


def claim_btcvae_reconstruction_worsens(table, setup):
    return _monotone(table, "btcvae", "reconstruction", True, "mean reconstruction (nats per image)")


def _best_means(table: pd.DataFrame, metric: str) -> pd.Series:
    return table.groupby(["model", "strength"])[metric].mean().groupby("model").max()


def _ranked(table, model, first: bool):
    if model not in set(table["model"]) or table["model"].nunique() < 2:
        return "NOT RUN", f"needs {MODEL_LABELS[model]} and another model"
    parts, ok = [], True
    for metric in THESIS_METRICS:
        best = _best_means(table, metric)
        target = best.idxmax() if first else best.idxmin()
        ok &= target == model
        parts.append(f"{metric}: " + ", ".join(f"{MODEL_LABELS.get(m, 'all cells')} {v:.3f}" for m, v in best.items()))
    return ("PASS" if ok else "FAIL"), "best strength's mean — " + "; ".join(parts)


def claim_factorvae_first(table, setup):
    return _ranked(table, "factorvae", first=True)


def claim_dipvae_last(table, setup):
    return _ranked(table, "dipvae", first=False)


def _rank_correlation(table, rows, cols):
    """Spearman's ρ of ``rows`` with ``cols`` over the cells, or why it cannot be had (NOT RUN, the reason)."""
    if len(table) < MIN_CELLS:
        return None, ("NOT RUN", f"{len(table)} cells; a rank correlation needs {MIN_CELLS}")
    rho = spearman(table, rows, cols)
    if rho.isna().any().any():
        return None, ("NOT RUN", f"ρ is undefined: a score is constant over the {len(table)} cells")
    return rho, None


def claim_metrics_agree(table, setup):
    rho, not_run = _rank_correlation(table, THESIS_METRICS, THESIS_METRICS)
    if not_run:
        return not_run
    pairs = [(a, b) for i, a in enumerate(THESIS_METRICS) for b in THESIS_METRICS[i + 1 :]]
    ok = all(rho.loc[a, b] >= 0.5 for a, b in pairs)
    return ("PASS" if ok else "FAIL"), (
        f"ρ over {len(table)} cells: "
        + ", ".join(f"{a}~{b} {rho.loc[a, b]:+.2f}" for a, b in pairs)
        + " (PASS: every ρ ≥ 0.5)"
    )


def claim_unsupervised_do_not_predict(table, setup):
    rho, not_run = _rank_correlation(table, THESIS_METRICS, UNSUPERVISED)
    if not_run:
        return not_run
    largest = rho.abs().stack().idxmax()
    ok = bool((rho.abs() <= 0.5).all().all())
    return ("PASS" if ok else "FAIL"), (
        f"largest |ρ| over {len(table)} cells: {largest[0]}~{largest[1]} "
        f"{rho.loc[largest]:+.2f} (PASS: every |ρ| ≤ 0.5, the thesis' largest)"
    )


def claim_seed_and_strength_matter(table, setup):
    counts = table.groupby("model").size()
    models = counts[counts >= 2].index
    if len(models) < 2:
        return "NOT RUN", "needs two models with two cells each"
    parts, ok = [], True
    for metric in THESIS_METRICS:
        cells = table[table["model"].isin(models)]
        between = np.ptp(cells.groupby("model")[metric].mean().to_numpy())
        within = cells.groupby("model")[metric].agg(np.ptp).mean()
        ok &= within >= between
        parts.append(f"{metric}: within {within:.3f}, between {between:.3f}")
    return ("PASS" if ok else "FAIL"), (
        "range of a model's cells (mean over models) against the range of the models' means — " + "; ".join(parts)
    )


def claim_seeds_spread_factorvae(table, setup):
    cells = table[table["model"] == "factorvae"]
    if cells["strength"].nunique() < 2 or cells.groupby("strength").size().min() < 2:
        return "NOT RUN", "needs two FactorVAE λ with two seeds each"
    within = cells.groupby("strength")["factor_vae"].std(ddof=1).mean()
    between = cells.groupby("strength")["factor_vae"].mean().std(ddof=1)
    return ("PASS" if within >= between else "FAIL"), (
        f"FactorVAE metric: seed sd within a λ {within:.3f} (mean over λ), sd of the λ means {between:.3f}"
    )


def _downstream(table):
    cols = [c for c in downstream_columns(table) if c.startswith("downstream_")]  # by train size
    return table.dropna(subset=cols) if cols else table.iloc[0:0], cols


def claim_accuracy_grows_with_labels(table, setup):
    cells, cols = _downstream(table)
    if cells.empty or len(cols) < 2:
        return "NOT RUN", "needs the downstream task with two train sizes"
    means = cells[cols].mean()
    ok = bool(np.all(np.diff(means.to_numpy()) > 0))
    return ("PASS" if ok else "FAIL"), "mean accuracy by train size: " + ", ".join(
        f"{c.split('_')[1]}: {v:.3f}" for c, v in means.items()
    )


def claim_metrics_predict_downstream(table, setup):
    cells, cols = _downstream(table)
    if not cols:
        return "NOT RUN", "needs the downstream task"
    rho, not_run = _rank_correlation(cells, [cols[-1]], THESIS_METRICS)
    if not_run:
        return not_run
    rho = rho.iloc[0]
    ok = bool((rho > 0).all())
    return ("PASS" if ok else "FAIL"), (
        f"ρ with accuracy at {cols[-1].split('_')[1]} labels over {len(cells)} "
        "cells: " + ", ".join(f"{m} {v:+.2f}" for m, v in rho.items())
    )


CLAIMS = [
    (
        "reconstruction_worsens_with_beta",
        "§5.3, Figures 5.7b and 5.9",
        "β-VAE's reconstruction error grows with β",
        claim_reconstruction_worsens,
    ),
    ("kl_falls_with_beta", "§5.3, Figure 5.7c", "β-VAE's KL divergence falls as β grows", claim_kl_falls),
    (
        "fewer_active_latents_at_high_beta",
        "Figures 5.5 and 5.8",
        "a larger β leaves fewer active latents",
        claim_fewer_active,
    ),
    (
        "passive_latents_above_beta_1",
        "Figures 5.5 and 5.6",
        "with β > 1 some latents collapse to the prior",
        claim_passive_latents,
    ),
    (
        "factorvae_keeps_reconstruction",
        "§5.4, Figure 5.11",
        "FactorVAE at its largest λ reconstructs better than β-VAE at its largest β",
        claim_factorvae_keeps_reconstruction,
    ),
    (
        "btcvae_reconstruction_worsens",
        "§5.4, Figure 5.11",
        "β-TCVAE's reconstruction error grows with its strength, as β-VAE's does",
        claim_btcvae_reconstruction_worsens,
    ),
    ("factorvae_first", "Table 5.6", "FactorVAE has the best mean on every metric", claim_factorvae_first),
    ("dipvae_last", "Table 5.6", "DIP-VAE has the worst mean on every metric", claim_dipvae_last),
    ("metrics_agree", "Figure 5.13", "the three metrics agree in rank", claim_metrics_agree),
    (
        "unsupervised_do_not_predict",
        "Figure 5.16",
        "ELBO, reconstruction and KL do not predict the metrics",
        claim_unsupervised_do_not_predict,
    ),
    (
        "seed_and_strength_matter_as_much_as_model",
        "Figure 5.14",
        "seeds and strengths spread a model's scores as much as the choice of model does",
        claim_seed_and_strength_matter,
    ),
    (
        "seeds_spread_factorvae_metric",
        "Figure 5.15",
        "FactorVAE's metric varies as much across seeds as across λ",
        claim_seeds_spread_factorvae,
    ),
    (
        "accuracy_grows_with_labels",
        "Figure 5.19a",
        "downstream accuracy grows with the number of labels",
        claim_accuracy_grows_with_labels,
    ),
    (
        "metrics_predict_downstream",
        "Figure 5.19b",
        "every metric correlates positively with downstream accuracy",
        claim_metrics_predict_downstream,
    ),
]


def claims(table: pd.DataFrame, setup) -> pd.DataFrame:
    """Every claim of ``CLAIMS`` on ``table``; ``setup`` is the run's (dislab.evaluation.fidelity.Setup)."""
    rows = []
    for name, source, text, check in CLAIMS:
        status, evidence = check(table, setup)
        rows.append(Claim(name, source, text, status, evidence).__dict__)
    return pd.DataFrame(rows)
