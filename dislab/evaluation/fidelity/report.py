"""The fidelity page (results/tables/fidelity.md, and fidelity.html in the report): the setup and its differences,
the units, the numbers and the claims."""

from __future__ import annotations

import math

import pandas as pd

from dislab.cells import MODEL_LABELS
from dislab.data.render import IMAGE_SIZE
from dislab.evaluation.fidelity.claims import EFFICIENT, NEAR_VAE, STRONG
from dislab.evaluation.fidelity.setup import Setup, strengths
from dislab.evaluation.fidelity.stats import MIN_RHO_CELLS
from dislab.pages import Page

PIXELS = IMAGE_SIZE * IMAGE_SIZE


def units_text(table: pd.DataFrame) -> list[str]:
    vae = table[(table["model"] == "betavae") & (table["strength"] == 1)]["reconstruction"]
    lines = [
        "dislab reports reconstruction, KL and ELBO in **nats per image**: the Bernoulli negative log-likelihood "
        f"summed over the {PIXELS:,} pixels and the closed-form KL summed over the latents, each averaged over "
        f"images (divide by {PIXELS:,} for nats per pixel). The metrics are accuracies in [0, 1] (MIG: mutual "
        "information over the factor's entropy), ρ is Spearman's rank correlation.",
        "The thesis labels no unit on its loss axes (Figures 5.4, 5.7, 5.9, 5.11); its one printed loss is the "
        'VAE\'s "reconstruction error or 0.274" after 30 epochs (§5.2, p. 49), whose unit it does not state.',
    ]
    if len(vae):
        per_image = vae.mean()
        lines.append(
            f"This run's VAE (β = 1) reconstructs at {per_image:.1f} nats per image = {per_image / PIXELS:.4f} nats "
            f"per pixel; the thesis' 0.274 is {0.274 / per_image:.2g}× the one and {0.274 * PIXELS / per_image:.2g}× "
            "the other. The text supports neither scale (nor any other it names), so no conversion is made and the "
            "thesis' loss value is *not comparable*."
        )
    return lines


def _fmt(value, digits=3) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return (
            f"{value:,.0f}"
            if abs(value) >= 1000
            else f"{value:.{digits}g}"
            if abs(value) >= 100
            else f"{value:.{digits}f}"
        )
    return str(value)


def _grid(table: pd.DataFrame) -> str:
    return ", ".join(
        f"{MODEL_LABELS.get(m, m)} ({strengths(sorted(g['strength'].unique()))})"
        for m, g in table.groupby("model", sort=False)
    )


def numbers_frame(nums: pd.DataFrame) -> pd.DataFrame:
    """The numbers as the page shows them."""

    def plus_minus(values, sds, ns=None):
        out = []
        for i, (v, s) in enumerate(zip(values, sds)):
            text = _fmt(v) + (f" ± {_fmt(s)}" if not math.isnan(s) else "")
            if ns is not None and ns[i]:
                text += f" (n {ns[i]})"
            out.append(text)
        return out

    shown = pd.DataFrame(
        {
            "source": [f"{s}, p. {p}" for s, p in zip(nums["source"], nums["page"])],
            "quantity": nums["quantity"],
            "model": [MODEL_LABELS.get(m, "all cells") for m in nums["model"]],
            "strength": nums["strength"],
            "run's best": nums["run_strength"].where(nums["kind"] == "best", ""),
            "unit": nums["unit"],
            "thesis": plus_minus(nums["thesis"], nums["thesis_sd"], list(nums["thesis_n"])),
            "run": plus_minus(nums["run"], nums["run_sd"], list(nums["run_n"])),
            "Δ ± SE": [
                "" if math.isnan(d) else f"{_fmt(d)} ± {_fmt(se)}" if not math.isnan(se) else _fmt(d)
                for d, se in zip(nums["diff"], nums["diff_se"])
            ],
            "Δ/SE": [_fmt(v, 2) for v in nums["diff_in_se"]],
            "Δ/sd": [_fmt(v, 2) for v in nums["effect_size"]],
            "verdict": nums["verdict"],
            "reason": [
                "; ".join(([f"setup{'' if own else ' (above)'}"] if shares else []) + ([own] if own else []))
                for own, shares in zip(nums["own_reason"], nums["shares_setup"])
            ],
            "note": nums["note"],
        }
    )
    return shown


def fidelity_page(nums: pd.DataFrame, checks: pd.DataFrame, setup: Setup, table: pd.DataFrame) -> Page:
    everything = setup.everything + setup.cells
    reading = setup.run["models"].get("btcvae", {}).get("strength_as", "lambda")
    page = Page("Fidelity: this run against the thesis").banner(setup.banner)
    page.paragraph(f"{len(table)} cells; {_grid(table)}; seeds {', '.join(str(s) for s in setup.run['seeds'])}.")
    page.paragraph(
        "**Setup.** "
        + (
            "The run's setup is the thesis' (config/thesis.yaml on the official data): its numbers are comparable."
            if not everything
            else "Where the run differs from the thesis' setup (config/thesis.yaml, the official data), "
            "the numbers it affects are *not comparable*: " + "; ".join(everything) + "."
        )
    )
    page.paragraph(f"**Training length.** {setup.length_reading}.")
    page.paragraph(
        f"**β-TCVAE's strength** was read as **{reading}** (`models.btcvae.strength_as`): "
        + (
            "the VAE's loss plus λ·TC, the thesis' §4.3 and the reading of its Table 5.4 that this project follows."
            if reading == "lambda"
            else "Chen et al.'s β: the VAE's loss plus (β − 1)·TC, as in disentanglement_lib (§4.3 adds λ·TC)."
        )
    )
    page.heading("Units")
    for line in units_text(table):
        page.paragraph(line)
    page.heading("Numbers")
    page.paragraph(
        "Each number the thesis prints that a run can regenerate. Δ is the run's value minus the thesis'; SE is the "
        "standard error of that difference from both sides' spreads and counts (Welch; a rank correlation on "
        "Fisher's z with both sides' errors; where the thesis prints no sd, the run's stands in, as the note says). "
        'Verdicts: within 1 SE, within 2 SE, beyond 2 SE; *not comparable* (the reason: "setup" for the '
        "differences above, then the row's own); *not run*. Δ/sd is the difference in units of the seeds' sd, an "
        "effect size, not a verdict. fidelity.csv holds every reason in full."
    )
    page.table(numbers_frame(nums))
    counts = checks["status"].value_counts()
    page.heading("Claims")
    page.paragraph(
        "Chapter 5's findings (and the sanity checks its objectives imply), checked on this run's own numbers: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("PASS", "FAIL", "NOT RUN"))
        + ". A difference counts as shown beyond its two-sided 95 % bound (Welch's t); a rank correlation is judged "
        f"on at least {MIN_RHO_CELLS} cells, on Fisher's z. Readings of the thesis' words: a low reconstruction "
        f"error is within {NEAR_VAE:.0%} of the VAE's; a strong correlation, |ρ| ≥ {STRONG}; a sample efficiency "
        f"close to 1, at least {EFFICIENT}. A claim on another setup than the thesis' is evidence about this run, "
        "not a replication."
    )
    claims = checks.rename(columns={"name": "claim", "quote": "the thesis says"})
    page.table(claims[["claim", "source", "kind", "the thesis says", "status", "evidence", "setup"]])
    return page
