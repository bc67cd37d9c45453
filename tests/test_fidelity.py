"""The fidelity table: the thesis' values, the verdicts and what keeps a number from comparing, and the claims."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from snakemake.utils import validate

from dislab.evaluation import claims as claims_module
from dislab.evaluation.fidelity import THESIS_VALUES, Setup, numbers, spearman_se, total_steps

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
OFFICIAL = {"source": "download", "images": 737_280}


def _config(name):
    config = yaml.safe_load((REPO / "config" / name).read_text())
    validate(config, SCHEMA)
    return config


@pytest.fixture(scope="module")
def thesis():
    return _config("thesis.yaml")


def _table(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "model",
            "strength",
            "seed",
            "beta_vae",
            "factor_vae",
            "mig",
            "elbo",
            "reconstruction",
            "kl",
            "active_latents",
        ],
    )


def _thesis_run_table(seed_sd=0.0):
    """A thesis-sized run whose β-VAE cells score the thesis' Table 5.3 means (plus a seed offset)."""
    t53 = pd.read_csv(THESIS_VALUES).query("source == 'Table 5.3'")
    rows = []
    for beta in (1, 3, 10, 30):
        means = t53[t53["strength"] == beta].set_index("quantity")["thesis"]
        for seed in range(10):
            offset = seed_sd * (1 if seed % 2 else -1)
            rows.append(
                [
                    "betavae",
                    float(beta),
                    seed,
                    means["beta_vae"] + offset,
                    means["factor_vae"] + offset,
                    means["mig"] + offset,
                    -100.0 - beta,
                    90.0 + beta,
                    10.0 / beta,
                    10 - beta // 10,
                ]
            )
    return _table(rows)


def test_the_thesis_values_are_transcribed_with_their_source():
    values = pd.read_csv(THESIS_VALUES)
    assert {"source", "page", "quantity", "model", "strength", "thesis", "thesis_sd", "thesis_seeds"} <= set(values)
    assert values["page"].notna().all() and values["source"].str.match(r"(Table|Figure) 5\.\d+").all()
    t53 = values[values["source"] == "Table 5.3"]
    assert len(t53) == 12  # 4 β x 3 metrics, as ../shared/spec/thesis-results.md transcribes them
    assert t53.query("strength == 3 and quantity == 'factor_vae'")[["thesis", "thesis_sd"]].values.tolist() == [
        [0.737, 0.031]
    ]
    assert len(values[values["source"] == "Table 5.6"]) == 12
    assert len(values[values["source"] == "Figure 5.16"]) == 9


def test_a_thesis_setup_compares_and_judges_by_the_thesis_sd(thesis):
    setup = Setup(thesis, thesis, OFFICIAL)
    assert setup.everything == [] and setup.cells == []
    nums = numbers(_thesis_run_table(seed_sd=0.01), pd.read_csv(THESIS_VALUES), setup)
    t53 = nums[nums["source"] == "Table 5.3"]
    assert (t53["verdict"] == "within 1 sd").all(), t53[["quantity", "strength", "verdict", "reason"]]
    assert np.allclose(t53["diff_thesis_sd"], 0, atol=1e-9)
    missing = nums[(nums["source"] == "Table 5.6") & (nums["model"] == "dipvae")]
    assert (missing["verdict"] == "not run").all()


def test_an_offset_of_three_thesis_sds_is_outside(thesis):
    table = _thesis_run_table(seed_sd=0.001)
    table.loc[table["strength"] == 3, "factor_vae"] += 3 * 0.031
    nums = numbers(table, pd.read_csv(THESIS_VALUES), Setup(thesis, thesis, OFFICIAL))
    row = nums.query("source == 'Table 5.3' and quantity == 'factor_vae' and strength == '3'").iloc[0]
    assert row["verdict"] == "outside 2 sd" and math.isclose(row["diff_thesis_sd"], 3.0, rel_tol=1e-6)


def test_every_difference_from_the_thesis_setup_is_a_reason(thesis):
    run = copy.deepcopy(thesis)
    run["training"]["steps"] = 2000
    run["seeds"] = [0, 1, 2]
    run["metrics"]["mig"]["num_train"] = 1000
    run["models"]["btcvae"]["strength_as"] = "beta"
    setup = Setup(run, thesis, {"source": "synthetic", "images": 737_280})
    assert any("renderer" in r for r in setup.everything)
    assert any("2,000 training steps a cell, not 345,600" in r for r in setup.everything)
    assert setup.metric("mig") == ["metrics.mig.num_train 1000 (thesis 10000)"]
    assert setup.model("btcvae") == ["models.btcvae.strength_as 'beta' (thesis 'lambda')"]
    assert "3 seeds a cell, not 10" in setup.cells
    nums = numbers(_thesis_run_table(), pd.read_csv(THESIS_VALUES), setup)
    row = nums.query("source == 'Table 5.3' and quantity == 'mig' and strength == '1'").iloc[0]
    assert row["verdict"] == "not comparable" and "metrics.mig.num_train" in row["reason"]
    assert "the thesis does not state its unit" in nums.query("quantity == 'reconstruction'").iloc[0]["reason"]


def test_thesis_steps_are_thirty_epochs_of_batch_64(thesis):
    assert total_steps(thesis, 737_280) == 345_600


def test_spearman_standard_error():
    assert math.isclose(spearman_se(170), math.sqrt(1.06 / 167))


def test_claims_pass_fail_and_not_run(thesis):
    setup = Setup(thesis, thesis, OFFICIAL)
    table = _thesis_run_table(seed_sd=0.01)
    checks = claims_module.claims(table, setup).set_index("name")
    assert checks.loc["reconstruction_worsens_with_beta", "status"] == "PASS"
    assert checks.loc["kl_falls_with_beta", "status"] == "PASS"
    assert checks.loc["fewer_active_latents_at_high_beta", "status"] == "PASS"
    assert checks.loc["factorvae_keeps_reconstruction", "status"] == "NOT RUN"  # no FactorVAE in this table
    assert "needs" in checks.loc["factorvae_keeps_reconstruction", "evidence"]
    flipped = table.assign(reconstruction=-table["reconstruction"])
    assert claims_module.claim_reconstruction_worsens(flipped, setup)[0] == "FAIL"


def test_factorvae_keeps_reconstruction_compares_the_largest_strengths(thesis):
    setup = Setup(thesis, thesis, OFFICIAL)
    rows = [
        ["betavae", 1.0, 0, 0.5, 0.5, 0.1, -90, 80.0, 20, 10],
        ["betavae", 30.0, 0, 0.5, 0.5, 0.1, -200, 190.0, 5, 3],
        ["factorvae", 10.0, 0, 0.6, 0.6, 0.2, -100, 85.0, 20, 6],
        ["factorvae", 100.0, 0, 0.6, 0.6, 0.2, -120, 100.0, 20, 5],
    ]
    status, evidence = claims_module.claim_factorvae_keeps_reconstruction(_table(rows), setup)
    assert status == "PASS" and "λ = 100 100" in evidence and "β = 30 190" in evidence
