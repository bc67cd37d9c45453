"""The fidelity rule's work: the run's table, its numbers and claims, the page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dislab.atomic import write_text
from dislab.data.download import digest_of
from dislab.evaluation.fidelity.claims import claims
from dislab.evaluation.fidelity.numbers import load_reference, numbers
from dislab.evaluation.fidelity.report import fidelity_page
from dislab.evaluation.fidelity.setup import Setup
from dislab.evaluation.tables import KEYS, collect

THESIS_VALUES = Path(__file__).resolve().parents[2] / "reference" / "thesis_values.csv"


def run_table(metrics, downstream, summaries, active_kl_threshold: float) -> pd.DataFrame:
    """One row per cell: collect()'s metrics, downstream results and active latents, and from each cell's training
    summary its parameter count and last logged TC estimate (``final_tc``)."""
    table = collect(metrics, downstream, active_kl_threshold=active_kl_threshold)
    rows = []
    for cell, path in summaries:
        summary = json.loads(Path(path).read_text())
        rows.append(
            {
                "model": cell.model,
                "strength": cell.strength,
                "seed": cell.seed,
                "parameters": summary.get("parameters"),
                "final_tc": summary.get("final", {}).get("tc"),
            }
        )
    if rows:
        table = table.merge(pd.DataFrame(rows), on=KEYS, how="left")
    return table


def write_fidelity(
    metrics, downstream, summaries, dataset_json, data_file, run_config: dict, thesis_config: dict, thesis_values, out
):
    """The fidelity table, the claims and their page from the (cell, file) pairs of ``metrics``, ``downstream`` and
    ``summaries``, the dataset check's summary (and the data file, for an NPZ's md5) and the thesis' printed values;
    ``out``: csv, claims, md and html paths."""
    dataset = json.loads(Path(dataset_json).read_text())
    md5 = digest_of(data_file, "md5") if str(data_file).endswith(".npz") else None
    setup = Setup(run_config, thesis_config, dataset, md5)
    table = run_table(metrics, downstream, summaries, run_config["active_kl_threshold"])
    nums = numbers(table, load_reference(thesis_values), setup)
    checks = claims(table, setup)
    write_text(out["csv"], nums.drop(columns=["own_reason", "shares_setup"]).to_csv(index=False))
    write_text(out["claims"], checks.to_csv(index=False))
    page = fidelity_page(nums, checks, setup, table)
    write_text(out["md"], page.markdown())
    write_text(out["html"], page.html())
    return nums, checks
