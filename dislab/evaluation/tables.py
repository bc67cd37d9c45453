"""Fan-in: metrics.csv (one row per cell), Tables 5.3 and 5.6, the Spearman tables of Figures 5.13, 5.16, 5.19b."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from dislab.atomic import write_text
from dislab.cells import strength_tag
from dislab.evaluation.active import active_latents
from dislab.evaluation.table_files import TABLE_FILES, TITLES
from dislab.pages import Page

THESIS_METRICS = ["beta_vae", "factor_vae", "mig"]
METRIC_LABELS = {"beta_vae": "β-VAE metric", "factor_vae": "FactorVAE metric", "mig": "MIG"}
UNSUPERVISED = ["elbo", "reconstruction", "kl"]
KEYS = ["model", "strength", "seed"]


def headline(results: dict) -> dict:
    """The flat row of metrics.csv: one number per score."""
    return {
        "beta_vae": results["beta_vae"]["eval_accuracy"],
        "factor_vae": results["factor_vae"]["eval_accuracy"],
        "mig": results["mig"]["discrete_mig"],
        "dci_disentanglement": results["dci"]["disentanglement"],
        "dci_completeness": results["dci"]["completeness"],
        "dci_informativeness": results["dci"]["informativeness_test"],
        "sap": results["sap"]["sap_score"],
        "modularity": results["modularity"]["modularity_score"],
        "explicitness": results["modularity"]["explicitness_score_test"],
        "gaussian_total_correlation": results["unsupervised"]["gaussian_total_correlation"],
        "gaussian_wasserstein_correlation": results["unsupervised"]["gaussian_wasserstein_correlation"],
        "mutual_info_score": results["unsupervised"]["mutual_info_score"],
        "elbo": results["elbo"]["elbo"],
        "reconstruction": results["elbo"]["reconstruction"],
        "kl": results["elbo"]["kl"],
    }


def collect(metrics, downstream=(), active_kl_threshold: float | None = None) -> pd.DataFrame:
    """One row per cell of ``metrics`` and ``downstream``, (cell, result file) pairs (dislab.cells.Cell); with
    ``active_kl_threshold`` (nats) also ``active_latents``, the latents whose mean KL exceeds it."""
    rows = []
    for cell, path in metrics:
        results = json.loads(Path(path).read_text())
        row = {**asdict(cell), **headline(results)}
        if active_kl_threshold is not None:
            row["active_latents"] = len(active_latents(results["elbo"]["kl_per_dim"], active_kl_threshold))
        rows.append(row)
    table = pd.DataFrame(rows)
    extra = []
    for cell, path in downstream:
        result = json.loads(Path(path).read_text())
        row = {k.replace(":mean_test_accuracy", ""): v for k, v in result.items() if k.endswith(":mean_test_accuracy")}
        extra.append(
            {
                **asdict(cell),
                **{f"downstream_{k}": v for k, v in row.items()},
                "sample_efficiency": result.get("sample_efficiency", np.nan),
            }
        )
    if extra:
        table = table.merge(pd.DataFrame(extra), on=KEYS, how="left")
    return table.sort_values(KEYS).reset_index(drop=True)


def downstream_columns(table: pd.DataFrame) -> list[str]:
    cols = [c for c in table.columns if c.startswith("downstream_")]
    return sorted(cols, key=lambda c: int(c.removeprefix("downstream_"))) + (
        ["sample_efficiency"] if "sample_efficiency" in table else []
    )


def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}" if len(values) > 1 else f"{values.mean():.3f}"


def table_5_3(table: pd.DataFrame) -> pd.DataFrame:
    """β-VAE: mean ± std over seeds of the three metrics for each β."""
    rows = []
    for beta, group in table[table["model"] == "betavae"].groupby("strength"):
        rows.append(
            {
                "β": strength_tag(beta),
                "seeds": len(group),
                **{METRIC_LABELS[m]: _mean_std(group[m]) for m in THESIS_METRICS},
            }
        )
    return pd.DataFrame(rows, columns=["β", "seeds", *METRIC_LABELS.values()])


def table_5_6(table: pd.DataFrame) -> pd.DataFrame:
    """For each model and metric: the best strength's mean ± std over seeds, the strength in parentheses, and how many
    seeds each mean is over."""
    rows = []
    for model, group in table.groupby("model", sort=False):
        per_strength = group.groupby("strength").size()
        low, high = int(per_strength.min()), int(per_strength.max())
        row = {"model": model, "seeds": str(low) if low == high else f"{low}-{high}"}
        for metric in THESIS_METRICS:
            means = group.groupby("strength")[metric].mean()
            best = means.idxmax()
            row[METRIC_LABELS[metric]] = f"{_mean_std(group[group['strength'] == best][metric])} ({strength_tag(best)})"
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "seeds", *METRIC_LABELS.values()])


def spearman(table: pd.DataFrame, rows: list[str], cols: list[str]) -> pd.DataFrame:
    """Spearman rank correlation of each ``rows`` column with each ``cols`` column, over all cells that have both."""
    full = table[rows + [c for c in cols if c not in rows]].corr(method="spearman")
    return full.loc[rows, cols]


def write_table(frame: pd.DataFrame, csv_path, md_path=None, index=False, html_path=None, title="", note="") -> None:
    """``frame`` as CSV, and as Markdown and an HTML page (titled, with a note under the title) where asked."""
    write_text(csv_path, frame.to_csv(index=index))
    if md_path:
        write_text(md_path, frame.to_markdown(index=index, disable_numparse=True) + "\n")
    if html_path:
        shown = frame.round(3) if index else frame  # the Spearman tables: ρ to three decimals
        write_text(html_path, Page(title).paragraph(note).table(shown, index=index).html())


def write_all(metrics, downstream, out: dict) -> pd.DataFrame:
    """Write the tables of ``out`` (a key of TABLE_FILES -> its path; every key but the fig5_19 ones is required)
    from the (cell, result file) pairs of ``metrics`` and ``downstream``."""
    unknown = set(out) - set(TABLE_FILES)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}; the tables are {sorted(TABLE_FILES)}")
    table = collect(metrics, downstream)
    cells = f"over the {len(table)} cells of this run"
    write_table(table, out["metrics"])
    for key, frame in (("table5_3", table_5_3(table)), ("table5_6", table_5_6(table))):
        write_table(frame, out[f"{key}_csv"], out[f"{key}_md"], html_path=out[f"{key}_html"], title=TITLES[key])
    correlations = {
        "fig5_13": (THESIS_METRICS, THESIS_METRICS),
        "fig5_16": (THESIS_METRICS, UNSUPERVISED),
        "fig5_19": (downstream_columns(table), THESIS_METRICS),
    }
    for key, (rows, cols) in correlations.items():
        if key in out:
            frame = spearman(table, rows, cols)
            write_table(frame, out[key], index=True, html_path=out[f"{key}_html"], title=TITLES[key], note=cells)
    return table
