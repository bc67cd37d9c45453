"""Chapter 5's findings as checks on a run's own numbers: PASS, FAIL or NOT RUN, with the evidence.

Each claim quotes the thesis and is either a *finding* (what the thesis found) or a *sanity check* (a consequence
of the objective that any correct implementation shows). Its rule can come out either way, and the tests
(tests/test_claims.py) give each claim data on which the thesis' statement is false:

- a difference of means is *shown* when it lies beyond its two-sided 95 % bound (Welch's t, from both groups'
  spreads and sizes); a rank correlation needs at least 20 cells and is shown when it lies beyond its 95 % bound on
  Fisher's z. A claim needs every difference it names shown; FAIL says whether the data contradict it (the opposite
  shown) or do not show it (within noise).
- a claim that an effect is *absent* (Figure 5.15) is an equivalence test: the effect must be shown smaller than a
  stated size, and data too noisy to bound it are NOT RUN.
- each claim checks the data the thesis used: the downstream claims take the thesis' downstream models (FactorVAE)
  and its sample-efficiency sizes, or are NOT RUN saying why.

Every claim row also says whether the run's setup is the thesis': on another setup it is evidence about that run,
not a replication. Adding a claim is a function and a row of ``CLAIMS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dislab.cells import MODEL_LABELS, strength_tag
from dislab.evaluation.fidelity.stats import (
    MIN_RHO_CELLS,
    Difference,
    bounded_below,
    mean_sd_n,
    rho_against_zero,
    spearman,
    variance_share,
    welch,
)
from dislab.evaluation.tables import METRIC_LABELS, THESIS_METRICS, downstream_columns

NEAR_VAE = 0.10  # "a low reconstruction error": within 10 % of the VAE's (the thesis gives no number)
EFFICIENT = 0.9  # a sample efficiency "close to 1" is at least 0.9; "well below" it is shown below 0.9
STRONG = 0.5  # "a strong correlation" and, for Figure 5.16, "no substantial" one: |ρ| of at least / at most 0.5
MINOR_SHARE = 0.5  # "more important than the objective": the model explains less than half of the variance
SAME_MEAN = 0.1  # "the mean is about the same": λ's means of the FactorVAE metric within 0.1 of each other


@dataclass(frozen=True)
class Comparison:
    """One difference a claim needs shown in direction ``sign`` (+1: positive)."""

    label: str
    diff: Difference
    sign: int = 1

    def text(self) -> str:
        return f"{self.label}: {self.diff.text()}"


def decide(comparisons: list[Comparison], must_not: list[Comparison] = ()) -> tuple[str, str]:
    """PASS when every comparison is shown and none of ``must_not`` is; NOT RUN when a comparison has no standard
    error (a group of one seed); else FAIL, saying which were contradicted or not shown."""
    evidence = "; ".join(c.text() for c in [*comparisons, *must_not])
    if any(math.isnan(c.diff.se) for c in [*comparisons, *must_not]):
        return "NOT RUN", f"needs two seeds in every group compared — {evidence}"
    contradicted = [c.label for c in comparisons if c.diff.contradicted(c.sign)]
    contradicted += [c.label for c in must_not if c.diff.shown(c.sign)]
    missing = [c.label for c in comparisons if not c.diff.shown(c.sign)]
    if contradicted:
        return "FAIL", f"contradicted ({', '.join(contradicted)}) — {evidence}"
    if missing:
        return "FAIL", f"not shown, within noise ({', '.join(missing)}) — {evidence}"
    return "PASS", evidence


def _model(table: pd.DataFrame, model: str) -> pd.DataFrame:
    return table[table["model"] == model]


def _by_strength(cells: pd.DataFrame, column: str) -> dict[float, pd.Series]:
    return {s: g[column] for s, g in sorted(cells.groupby("strength"), key=lambda kv: kv[0])}


def _label(model) -> str:
    return MODEL_LABELS.get(model, model)


def _needs_strengths(table, model, column) -> tuple[dict, tuple[str, str] | None]:
    groups = _by_strength(_model(table, model), column) if column in table else {}
    if len(groups) < 2:
        return groups, ("NOT RUN", f"needs two strengths of {_label(model)}; this run has {len(groups)}")
    return groups, None


def _trend(table, model, column, rises: bool, what: str, symbol: str):
    """``column`` rises (or falls) from the smallest strength to the largest, shown, and no step between neighbouring
    strengths goes the other way beyond its bound."""
    groups, not_run = _needs_strengths(table, model, column)
    if not_run:
        return not_run, None
    strengths = list(groups)
    sign = 1 if rises else -1
    first, last = strengths[0], strengths[-1]
    ends = Comparison(
        f"{what} at {symbol} {strength_tag(last)} − at {symbol} {strength_tag(first)}",
        welch(groups[last], groups[first]),
        sign,
    )
    steps = (
        [
            Comparison(f"{symbol} {strength_tag(b)} − {symbol} {strength_tag(a)}", welch(groups[b], groups[a]), -sign)
            for a, b in zip(strengths, strengths[1:])
        ]
        if len(strengths) > 2
        else []  # with two strengths the one step is the ends' difference
    )
    return None, (ends, steps)


# -- sanity checks: consequences of the objective ----------------------------------------------------------------
def reconstruction_worsens_with_beta(table, setup):
    groups, not_run = _needs_strengths(table, "betavae", "reconstruction")
    if not_run:
        return not_run
    strengths = list(groups)
    return decide(
        [
            Comparison(f"reconstruction at β {strength_tag(b)} − at β {strength_tag(a)}", welch(groups[b], groups[a]))
            for a, b in zip(strengths, strengths[1:])
        ]
    )


def kl_falls_with_beta(table, setup):
    not_run, found = _trend(table, "betavae", "kl", rises=False, what="KL", symbol="β")
    return not_run or decide([found[0]], must_not=found[1])


def fewer_active_latents_at_high_beta(table, setup):
    not_run, found = _trend(table, "betavae", "active_latents", rises=False, what="active latents", symbol="β")
    if not_run:
        return not_run
    status, evidence = decide([found[0]], must_not=found[1])
    top = _model(table, "betavae")
    top = top[top["strength"] == top["strength"].max()]["active_latents"]
    dim = setup.run["model"]["latent_dim"]
    if status == "PASS" and not (top < dim).all():
        return "FAIL", f"some seed at the largest β has all {dim} latents active — {evidence}"
    return status, f"{evidence}; active latents of {dim} at the largest β: {', '.join(map(str, top.astype(int)))}"


# -- findings ---------------------------------------------------------------------------------------------------------
def btcvae_reconstruction_worsens(table, setup):
    not_run, found = _trend(table, "btcvae", "reconstruction", rises=True, what="reconstruction", symbol="λ")
    return not_run or decide([found[0]], must_not=found[1])


def factorvae_reconstructs_better_than_btcvae(table, setup):
    factor, btc = _model(table, "factorvae"), _model(table, "btcvae")
    if factor.empty or btc.empty:
        return "NOT RUN", "needs FactorVAE and β-TCVAE"
    return decide(
        [
            Comparison(
                "β-TCVAE's reconstruction − FactorVAE's, over every cell",
                welch(btc["reconstruction"], factor["reconstruction"]),
            )
        ]
    )


def factorvae_stays_near_the_vae(table, setup):
    factor, vae = _model(table, "factorvae"), _model(table, "betavae")
    vae = vae[vae["strength"] == 1]["reconstruction"]
    if factor.empty or vae.empty:
        return "NOT RUN", "needs FactorVAE and the VAE (β-VAE at β = 1)"
    margin = NEAR_VAE * vae.mean()
    comparisons = []
    for strength, values in _by_strength(factor, "reconstruction").items():
        excess = welch(values, vae)
        # shown near: the excess over the VAE's error lies below the margin beyond its bound
        comparisons.append(
            Comparison(
                f"{NEAR_VAE:.0%} of the VAE's error − FactorVAE λ {strength_tag(strength)}'s excess over it",
                Difference(margin - excess.estimate, excess.se, excess.df),
            )
        )
    return decide(comparisons)


def btcvae_tc_estimate_negative(table, setup):
    cells = _model(table, "btcvae")
    if cells.empty or "final_tc" not in cells or cells["final_tc"].isna().all():
        return "NOT RUN", "needs β-TCVAE cells with their training summaries"
    values = cells["final_tc"].dropna()
    below = bounded_below(values, 0.0)
    return decide([Comparison("0 − the mean of β-TCVAE's last logged TC estimates", below)])


def _best_means(table: pd.DataFrame, metric: str) -> pd.Series:
    return table.groupby(["model", "strength"])[metric].mean().groupby("model").max()


def _best_cells(table: pd.DataFrame, model: str, metric: str) -> pd.Series:
    cells = _model(table, model)
    best = cells.groupby("strength")[metric].mean().idxmax()
    return cells[cells["strength"] == best][metric]


def factorvae_first(table, setup):
    if "factorvae" not in set(table["model"]) or table["model"].nunique() < 2:
        return "NOT RUN", "needs FactorVAE and another model"
    parts, leaders = [], []
    for metric in THESIS_METRICS:
        best = _best_means(table, metric).sort_values(ascending=False)
        leaders.append(best.index[0])
        parts.append(f"{METRIC_LABELS[metric]}: " + ", ".join(f"{_label(m)} {v:.3f}" for m, v in best.items()))
    status = "PASS" if all(m == "factorvae" for m in leaders) else "FAIL"
    return status, "the best strength's mean, highest first — " + "; ".join(parts)


def betavae_btcvae_within_one_sd_of_factorvae(table, setup):
    first, _ = factorvae_first(table, setup)
    if first != "PASS":
        return "NOT RUN", "the caveat qualifies FactorVAE's first place (factorvae_first), which this run does not show"
    if not {"betavae", "btcvae"} <= set(table["model"]):
        return "NOT RUN", "needs β-VAE and β-TCVAE"
    parts, beyond = [], []
    for metric in THESIS_METRICS:
        mean, sd, n = mean_sd_n(_best_cells(table, "factorvae", metric))
        if n < 2:
            return "NOT RUN", "needs two seeds at FactorVAE's best strength for its sd"
        for model in ("betavae", "btcvae"):
            gap = mean - _best_cells(table, model, metric).mean()
            parts.append(f"{METRIC_LABELS[metric]} {_label(model)} {gap:+.3f} (sd {sd:.3f})")
            if abs(gap) > sd:
                beyond.append(f"{_label(model)} on the {METRIC_LABELS[metric]}")
    evidence = "FactorVAE's best mean minus theirs — " + "; ".join(parts)
    return ("FAIL", f"beyond one sd: {', '.join(beyond)} — {evidence}") if beyond else ("PASS", evidence)


def dipvae_last(table, setup):
    if "dipvae" not in set(table["model"]) or table["model"].nunique() < 2:
        return "NOT RUN", "needs DIP-VAE and another model"
    comparisons = [
        Comparison(
            f"{METRIC_LABELS[metric]}: {_label(model)} − DIP-VAE (best strengths)",
            welch(_best_cells(table, model, metric), _best_cells(table, "dipvae", metric)),
        )
        for metric in THESIS_METRICS
        for model in sorted(set(table["model"]) - {"dipvae"})
    ]
    return decide(comparisons)


def _rho_claim(x: pd.DataFrame, pairs, sign: int = 1, at_least: float | None = None, at_most: float | None = None):
    """Each (a, b) of ``pairs``: ρ over the cells of ``x`` shown in direction ``sign`` on Fisher's z; with
    ``at_least``/``at_most``, |ρ| must also reach / stay within it."""
    n = len(x)
    if n < MIN_RHO_CELLS:
        return "NOT RUN", f"{n} cells; a rank correlation is judged on at least {MIN_RHO_CELLS}"
    comparisons, sizes = [], []
    for a, b, want in pairs:
        rho, m = spearman(x[a], x[b])
        if math.isnan(rho):
            return "NOT RUN", f"ρ of {a} with {b} is undefined over these {n} cells (a score is constant)"
        diff = rho_against_zero(rho, m)
        comparisons.append(Comparison(f"ρ({a}, {b}) = {rho:+.2f}", diff, want * sign))
        if at_least is not None and abs(rho) < at_least:
            sizes.append(f"|ρ({a}, {b})| {abs(rho):.2f} < {at_least}")
        if at_most is not None and abs(rho) > at_most:
            sizes.append(f"|ρ({a}, {b})| {abs(rho):.2f} > {at_most}")
    status, evidence = decide(comparisons)
    evidence = f"over {n} cells — {evidence}"
    if status == "PASS" and sizes:
        return "FAIL", f"{'; '.join(sizes)} — {evidence}"
    return status, evidence


def metrics_agree(table, setup):
    pairs = [(a, b, 1) for i, a in enumerate(THESIS_METRICS) for b in THESIS_METRICS[i + 1 :]]
    return _rho_claim(table, pairs, at_least=STRONG)


def model_explains_a_minor_share(table, setup):
    counts = table.groupby("model").size()
    if (counts >= 2).sum() < 2 or len(table) < MIN_RHO_CELLS or "factorvae" not in counts:
        return "NOT RUN", f"needs two models with two cells each, FactorVAE among them, and {MIN_RHO_CELLS} cells"
    parts, failed = [], []
    for metric in THESIS_METRICS:
        share, p = variance_share(table[metric], table["model"])
        means = table.groupby("model")[metric].mean()
        parts.append(
            f"{METRIC_LABELS[metric]}: η² {share:.2f} (F test p {p:.2g}), highest mean {_label(means.idxmax())}"
        )
        if not p < 0.05:
            failed.append(f"the model does not shift the {METRIC_LABELS[metric]} (p {p:.2g})")
        elif share >= MINOR_SHARE:
            failed.append(f"the model explains {share:.0%} of the {METRIC_LABELS[metric]}'s variance")
        elif means.idxmax() != "factorvae":
            failed.append(f"FactorVAE's mean is not the highest on the {METRIC_LABELS[metric]}")
    evidence = "share of each metric's variance over every cell that the model explains — " + "; ".join(parts)
    return ("FAIL", f"{'; '.join(failed)} — {evidence}") if failed else ("PASS", evidence)


def seeds_spread_factorvae_metric(table, setup):
    """An effect said to be absent: λ's means lie within ``SAME_MEAN`` of each other (an equivalence test, each pair's
    difference plus its 95 % bound), while the seeds spread the metric at least as much as λ does. Data too noisy to
    bound a λ effect of that size are NOT RUN: an absent effect is only shown where one could have been seen."""
    cells = _model(table, "factorvae")
    groups = _by_strength(cells, "factor_vae")
    if len(groups) < 2 or min(len(g) for g in groups.values()) < 3:
        return "NOT RUN", f"needs two FactorVAE λ with three seeds each; this run has {len(cells)} FactorVAE cells"
    pairs = [(a, b, welch(groups[b], groups[a])) for a, b in zip(list(groups), list(groups)[1:])] + [
        (a, b, welch(groups[b], groups[a])) for i, a in enumerate(groups) for b in list(groups)[i + 2 :]
    ]
    widest = max(d.bound * d.se for _, _, d in pairs)
    within = float(np.sqrt(cells.groupby("strength")["factor_vae"].var(ddof=1).mean()))
    between = float(cells.groupby("strength")["factor_vae"].mean().std(ddof=1))
    evidence = (
        f"FactorVAE metric: λ means {', '.join(f'{strength_tag(k)}: {v.mean():.3f}' for k, v in groups.items())}; "
        f"seed sd within a λ {within:.3f}, sd of the λ means {between:.3f}"
    )
    if widest >= SAME_MEAN:
        return (
            "NOT RUN",
            f"too noisy to bound a λ effect of {SAME_MEAN} (a difference's 95 % bound is ±{widest:.3f}) — {evidence}",
        )
    apart = [
        f"{strength_tag(b)} − {strength_tag(a)} {d.estimate:+.3f}"
        for a, b, d in pairs
        if abs(d.estimate) + d.bound * d.se >= SAME_MEAN
    ]
    if apart:
        return "FAIL", f"λ means not shown within {SAME_MEAN} of each other ({', '.join(apart)}) — {evidence}"
    if within < between:
        return "FAIL", f"the λ means spread more than the seeds — {evidence}"
    return "PASS", evidence


def unsupervised_pattern(table, setup):
    pairs = [(m, "kl", -1) for m in THESIS_METRICS] + [(m, "reconstruction", 1) for m in THESIS_METRICS]
    status, evidence = _rho_claim(table, pairs, at_most=STRONG)
    if status == "PASS":
        largest = max(
            abs(spearman(table[m], table[u])[0]) for m in THESIS_METRICS for u in ("elbo", "kl", "reconstruction")
        )
        if largest > STRONG:
            return "FAIL", f"a |ρ| of {largest:.2f} with the ELBO or its parts is substantial — {evidence}"
    return status, evidence


def _downstream_cells(table, setup):
    """The cells of the thesis' downstream models (FactorVAE) with downstream results, and why not if none."""
    models = setup.thesis["downstream"]["models"]
    cols = [c for c in downstream_columns(table) if c.startswith("downstream_")]
    cells = table[table["model"].isin(models)].dropna(subset=cols) if cols else table.iloc[0:0]
    if cells.empty:
        named = ", ".join(_label(m) for m in models)
        return cells, cols, f"the thesis ran the downstream task on {named} alone; this run has no such results"
    return cells, cols, None


def sample_efficiency_low(table, setup):
    cells, _, why = _downstream_cells(table, setup)
    if why:
        return "NOT RUN", why
    low, high = setup.run["downstream"]["sample_efficiency"]
    if [low, high] != setup.thesis["downstream"]["sample_efficiency"]:
        return (
            "NOT RUN",
            f"this run's efficiency is accuracy({low:,}) / accuracy({high:,}), not the thesis' 100 / 10,000",
        )
    return decide(
        [Comparison(f"{EFFICIENT} − the mean sample efficiency", bounded_below(cells["sample_efficiency"], EFFICIENT))]
    )


def metrics_predict_downstream(table, setup):
    cells, cols, why = _downstream_cells(table, setup)
    if why:
        return "NOT RUN", why
    return _rho_claim(cells, [(m, cols[-1], 1) for m in THESIS_METRICS])


@dataclass(frozen=True)
class Claim:
    name: str
    source: str
    quote: str
    kind: str  # "finding" or "sanity check"
    check: object
    models: tuple = ()  # whose setup matters ("all": the whole grid)
    uses: tuple = ()  # what else it reads: "metrics", "unsupervised", "downstream"

    def setup_reasons(self, setup) -> list[str]:
        reasons = setup.everything + (setup.cells if "all" in self.models else [])
        for model in self.models:
            reasons += setup.model(model) + setup.grid(model)
        if "metrics" in self.uses:
            reasons += [r for m in THESIS_METRICS for r in setup.metric(m)]
        if "unsupervised" in self.uses:
            reasons += setup.metric("unsupervised")
        if "active" in self.uses:
            reasons += setup.active_threshold
        if "downstream" in self.uses:
            reasons += setup.downstream
        return list(dict.fromkeys(reasons))


CLAIMS = [
    Claim(
        "reconstruction_worsens_with_beta",
        "§5.3, Figure 5.7b",
        "the reconstruction error gets consistently higher for larger β",
        "sanity check",
        reconstruction_worsens_with_beta,
        ("betavae",),
        ("unsupervised",),
    ),
    Claim(
        "kl_falls_with_beta",
        "§5.3, Figure 5.7c",
        "for larger β the KL divergence becomes constant (read: non-increasing in β, and lower at the largest β "
        "than at the smallest)",
        "sanity check",
        kl_falls_with_beta,
        ("betavae",),
        ("unsupervised",),
    ),
    Claim(
        "fewer_active_latents_at_high_beta",
        "§5.3, Figures 5.5, 5.6 and 5.8",
        "five informative rows at β = 3, and at β = 30 only three coordinates carry information; the passive ones "
        "collapse to the prior",
        "sanity check",
        fewer_active_latents_at_high_beta,
        ("betavae",),
        ("unsupervised", "active"),
    ),
    Claim(
        "btcvae_reconstruction_worsens",
        "§5.4, Figure 5.11",
        "β-TCVAE displays similar behavior to β-VAE as the reconstructions error worsens with a larger "
        "regularization strength",
        "finding",
        btcvae_reconstruction_worsens,
        ("btcvae",),
        ("unsupervised",),
    ),
    Claim(
        "factorvae_reconstructs_better_than_btcvae",
        "§5.4, Figure 5.11",
        "FactorVAE and β-TCVAE estimate the same objective ... However, FactorVAE displays a superior ability in "
        "terms of reconstruction",
        "finding",
        factorvae_reconstructs_better_than_btcvae,
        ("factorvae", "btcvae"),
        ("unsupervised",),
    ),
    Claim(
        "factorvae_stays_near_the_vae",
        "§5.4, Figure 5.11",
        f"FactorVAE obtains a low reconstruction error for a range of λ (read: within {NEAR_VAE:.0%} of the VAE's at "
        "every λ)",
        "finding",
        factorvae_stays_near_the_vae,
        ("factorvae", "betavae"),
        ("unsupervised",),
    ),
    Claim(
        "btcvae_tc_estimate_negative",
        "§5.4",
        "The Monte Carlo estimator used in β-TCVAE is biased, and we also observed the estimate to be negative "
        "(dislab's estimator keeps the log(N·M) constants; without them the estimate is shifted down)",
        "finding",
        btcvae_tc_estimate_negative,
        ("btcvae",),
    ),
    Claim(
        "factorvae_first",
        "§5.4, Table 5.6",
        "For all metrics, FactorVAE outperforms the other models ranked by the mean",
        "finding",
        factorvae_first,
        ("all",),
        ("metrics",),
    ),
    Claim(
        "betavae_btcvae_within_one_sd_of_factorvae",
        "§5.4, Table 5.6",
        "However, both β-VAE and β-TCVAE are within one standard deviation from FactorVAE on all metrics",
        "finding",
        betavae_btcvae_within_one_sd_of_factorvae,
        ("all",),
        ("metrics",),
    ),
    Claim(
        "dipvae_last",
        "§5.4, Table 5.6",
        "DIP-VAE is consistently worse",
        "finding",
        dipvae_last,
        ("all",),
        ("metrics",),
    ),
    Claim(
        "metrics_agree",
        "§5.5, Figure 5.13",
        "There is a strong correlation between the three metrics",
        "finding",
        metrics_agree,
        ("all",),
        ("metrics",),
    ),
    Claim(
        "model_explains_a_minor_share",
        "§5.5, Figure 5.14",
        "For each metric, the mean for FactorVAE is better ... However, there is considerable overlap between each "
        "model ... the selection of seed and hyperparameters is substantially more important than which objective "
        "function we choose",
        "finding",
        model_explains_a_minor_share,
        ("all",),
        ("metrics",),
    ),
    Claim(
        "seeds_spread_factorvae_metric",
        "§5.5, Figure 5.15",
        "While there is a considerable difference between the maximum value, the mean is about the same [across λ] "
        "... random seed has a notable effect on the metric",
        "finding",
        seeds_spread_factorvae_metric,
        ("factorvae",),
        ("metrics",),
    ),
    Claim(
        "unsupervised_pattern",
        "§5.5, Figure 5.16",
        "there seems to be no substantial correlation pattern between the unsupervised metrics and the "
        "disentanglement metrics (its nine ρ: each metric falls with the KL and rises with the reconstruction error, "
        "none beyond |ρ| = 0.5)",
        "finding",
        unsupervised_pattern,
        ("all",),
        ("metrics", "unsupervised"),
    ),
    Claim(
        "sample_efficiency_low",
        "§5.6, Figure 5.19a",
        "the mean efficiency is about 0.58 ... If the model can use each sample efficiently, this ratio should be "
        "close to 1 ... this does not seem to be the case",
        "finding",
        sample_efficiency_low,
        ("factorvae",),
        ("downstream",),
    ),
    Claim(
        "metrics_predict_downstream",
        "§5.6, Figure 5.19b",
        "All the metrics seem to have a certain positive correlation with the downstream performance",
        "finding",
        metrics_predict_downstream,
        ("factorvae",),
        ("metrics", "downstream"),
    ),
]
BY_NAME = {claim.name: claim for claim in CLAIMS}


def claims(table: pd.DataFrame, setup) -> pd.DataFrame:
    """Every claim of ``CLAIMS`` on ``table`` (one row per cell); ``setup``: the run's (fidelity.setup.Setup)."""
    rows = []
    for claim in CLAIMS:
        status, evidence = claim.check(table, setup)
        reasons = claim.setup_reasons(setup)
        rows.append(
            {
                "name": claim.name,
                "source": claim.source,
                "kind": claim.kind,
                "quote": claim.quote,
                "status": status,
                "evidence": evidence,
                "setup": "the thesis'" if not reasons else "another setup: evidence about this run, not a replication",
                "setup_reasons": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows)
