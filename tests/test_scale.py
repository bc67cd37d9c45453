"""A study the size of disentanglement_lib's (about 12,800 models): the fan-in jobs (tables, fidelity, the results
index) run on generated result files of 12,750 cells (the thesis grid with 750 seeds), each handed its job as a file,
so that no command line grows with the grid. Training is not run: the result files are made up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from worlds import THESIS_GRID

from dislab.evaluation.fidelity.setup import setup_of

SEEDS = 750
CELLS = [
    {"model": m, "strength": f"{s:g}", "seed": seed}
    for m, ss in sorted(THESIS_GRID.items())
    for s in ss
    for seed in range(SEEDS)
]


def _metrics(rng) -> dict:
    q = rng.random()
    return {
        "beta_vae": {"eval_accuracy": q},
        "factor_vae": {"eval_accuracy": q * 0.9},
        "mig": {"discrete_mig": q * 0.3},
        "dci": {"disentanglement": q, "completeness": q, "informativeness_test": q},
        "sap": {"sap_score": q / 10},
        "modularity": {"modularity_score": q, "explicitness_score_test": q},
        "unsupervised": {
            "gaussian_total_correlation": 1.0,
            "gaussian_wasserstein_correlation": 1.0,
            "mutual_info_score": 0.1,
        },
        "elbo": {"elbo": -100 - q, "reconstruction": 90 + q, "kl": 10.0, "kl_per_dim": list(rng.random(10))},
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """12,750 cells' metrics, training summaries and (FactorVAE's) downstream results, and the dataset check."""
    root = tmp_path_factory.mktemp("study")
    rng = np.random.default_rng(0)
    files = {"metrics": [], "downstream": [], "summaries": []}
    downstream_cells = [c for c in CELLS if c["model"] == "factorvae"]
    for cell in CELLS:
        where = f"{cell['model']}/{cell['strength']}/seed{cell['seed']}"
        for kind, name, body in (
            ("metrics", f"results/metrics/{where}.json", _metrics(rng)),
            ("summaries", f"results/models/{where}/summary.json", {"parameters": 502_005, "final": {"tc": 0.1}}),
        ):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))
            files[kind].append(name)
        if cell["model"] == "factorvae":
            name = f"results/downstream/{where}.json"
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            accuracy = {f"{n}:mean_test_accuracy": 0.5 for n in (10, 100, 1000, 10000)}
            (root / name).write_text(json.dumps({**accuracy, "sample_efficiency": 1.0}))
            files["downstream"].append(name)
    (root / "results" / "data").mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "thesis.yaml").read_text())
    dataset = {"source": "download", "file": "d.hdf5", "images": 737_280, "sha256": config["dataset"]["sha256"]}
    (root / "results" / "data" / "dataset.json").write_text(json.dumps(dataset))
    config["seeds"] = list(range(SEEDS))
    return root, files, downstream_cells, config


def _run(root, command, job):
    path = root / f"{command}.job.json"
    path.write_text(json.dumps(job))
    argv = [sys.executable, "-m", "dislab", command, "--job", str(path)]
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert len(" ".join(argv)) < 1000  # the job travels as a file: the command line does not grow with the grid
    return time.perf_counter() - started


def test_the_fan_in_jobs_run_on_12750_cells(study):
    from dislab.evaluation.table_files import TABLE_FILES

    root, files, downstream_cells, config = study
    tables = {key: f"results/tables/{name}" for key, (name, _) in TABLE_FILES.items()}
    seconds = {
        "tables": _run(
            root,
            "tables",
            {
                "input": {"metrics": files["metrics"], "downstream": files["downstream"]},
                "output": tables,
                "params": {"cells": CELLS, "downstream_cells": downstream_cells},
            },
        )
    }
    metrics = pd.read_csv(root / tables["metrics"])
    assert len(metrics) == len(CELLS) == 12_750 and metrics["downstream_10000"].notna().sum() == 5 * SEEDS
    assert "<table>" in (root / tables["table5_6_html"]).read_text()

    thesis = yaml.safe_load((REPO / "config" / "thesis.yaml").read_text())
    out = {k: f"results/tables/fidelity.{k}" for k in ("csv", "md", "html")} | {"claims": "results/tables/claims.csv"}
    seconds["fidelity"] = _run(
        root,
        "fidelity",
        {
            "input": {
                "metrics": files["metrics"],
                "downstream": files["downstream"],
                "summaries": files["summaries"],
                "dataset": "results/data/dataset.json",
                "data": "d.hdf5",
                "thesis_values": str(REPO / "dislab" / "reference" / "thesis_values.csv"),
            },
            "output": out,
            "params": {
                "cells": CELLS,
                "downstream_cells": downstream_cells,
                "settings": {"config": setup_of(config), "thesis": setup_of(thesis)},
            },
        },
    )
    claims = pd.read_csv(root / out["claims"])
    assert len(claims) == 16 and "over 12750 cells" in " ".join(claims["evidence"])
    entries = {tables["table5_3_html"]: str(REPO / "workflow" / "report" / "table5_3.rst")}
    seconds["results-index"] = _run(
        root,
        "results-index",
        {
            "output": {"index": "results/README.md"},
            "params": {"entries": entries, "config_files": ["study.yaml"], "dataset": config["dataset"], "smoke": []},
        },
    )
    assert "Thesis Table 5.3" in (root / "results" / "README.md").read_text()
    print("fan-in jobs on 12,750 cells, seconds:", {k: round(v, 1) for k, v in seconds.items()})


def test_a_study_of_12750_cells_plans(study, tmp_path):
    """The whole DAG of 12,750 cells: every training, evaluation and downstream job, and the fan-in jobs on them."""
    from conftest import run_snakemake
    from test_workflow import planned_jobs

    _, _, downstream_cells, study_config = study
    config = {**study_config, "training": {**study_config["training"], "device": "cpu"}}  # plans without a GPU
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    proc = run_snakemake(tmp_path / "run", "-n", "--cores", "1", "--quiet", "rules", "reason", configfile=path)
    jobs = planned_jobs(proc.stdout)
    assert jobs["train"] == str(len(CELLS)) and jobs["evaluate"] == str(len(CELLS)), jobs
    assert jobs["downstream"] == str(len(downstream_cells)) and jobs["tables"] == jobs["fidelity"] == "1", jobs
    print(f"planned {jobs['total']} jobs of {len(CELLS):,} cells in {time.perf_counter() - started:.0f} s")
