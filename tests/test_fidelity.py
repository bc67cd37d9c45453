"""The fidelity numbers: the thesis' values, what keeps a number from comparing, and verdicts by the standard error of
the difference (dislab/evaluation/fidelity/)."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
from worlds import OFFICIAL, THESIS_CONFIG, standard, thesis_run_table, thesis_setup

from dislab.evaluation.fidelity.numbers import load_reference, numbers
from dislab.evaluation.fidelity.run import THESIS_VALUES
from dislab.evaluation.fidelity.setup import TEXT_STEPS, configured_images, smoke_reasons, total_steps
from dislab.evaluation.fidelity.stats import welch_from

REFERENCE = load_reference(THESIS_VALUES)
INHERENT = ("the thesis does not state the strength", "the thesis does not state its unit")


def _row(nums, **where):
    chosen = nums
    for key, value in where.items():
        chosen = chosen[chosen[key] == value]
    assert len(chosen) == 1, chosen
    return chosen.iloc[0]


def test_the_thesis_values_are_transcribed_with_their_source():
    frame = pd.DataFrame(REFERENCE)
    assert frame["page"].between(45, 62).all() and frame["kind"].isin(["mean", "best", "spearman", "count"]).all()
    t53 = frame[frame["source"] == "Table 5.3"]
    assert len(t53) == 12  # 4 β x 3 metrics, as ../shared/spec/thesis-results.md transcribes them
    row = t53[(t53["strength"] == "3") & (t53["quantity"] == "factor_vae")].iloc[0]
    assert (row["thesis"], row["thesis_sd"], row["thesis_n"]) == (0.737, 0.031, 10)
    assert len(frame[frame["source"] == "Table 5.6"]) == 12 and len(frame[frame["kind"] == "spearman"]) == 9
    # the 0.274 is the §5.2 text's (p. 49), in a unit the thesis does not state
    loss = frame[frame["quantity"] == "reconstruction"].iloc[0]
    assert (loss["source"], loss["page"], loss["unit"]) == ("§5.2 text", 49, "unstated") and "error or 0.274" in loss[
        "quote"
    ]
    # the counts the thesis does not print are marked as inferred: 170 cells, 50 cells, one model a figure
    assert not frame[frame["kind"] == "spearman"]["n_printed"].any() and set(
        frame[~frame["n_printed"]]["thesis_n"]
    ) == {1, 50, 170}
    assert _row(frame, quantity="parameters")["thesis"] == 502_005


def test_the_thesis_own_numbers_are_comparable_and_within_bounds_against_themselves():
    nums = numbers(thesis_run_table(), REFERENCE, thesis_setup())
    inherent = nums["reason"].str.startswith(INHERENT)
    assert (nums.loc[inherent, "verdict"] == "not comparable").all()  # strengths and a unit the thesis never gives
    judged = nums[~inherent]
    assert (judged["reason"] == "").all(), judged[judged["reason"] != ""][["quantity", "reason"]]
    assert set(judged["verdict"]) <= {"within 1 SE", "within 2 SE", "equal"}, judged[["quantity", "verdict"]]
    means = judged[judged["kind"].isin(["mean", "best"])]
    assert (means["verdict"] == "within 1 SE").all() and means["diff"].abs().max() < 1e-12
    assert (judged[judged["kind"] == "spearman"]["verdict"] != "beyond 2 SE").all()
    assert _row(nums, quantity="parameters")["verdict"] == "equal"


def test_a_mean_is_judged_by_the_standard_error_of_the_difference_not_the_thesis_sd():
    """Two 10-seed means 4.5 standard errors apart, the audit's case, are beyond 2 SE though within 2 thesis sds."""
    table = thesis_run_table()
    shift = 2 * 0.031  # two of the thesis' sds
    table.loc[(table["model"] == "betavae") & (table["strength"] == 3), "factor_vae"] += shift
    row = _row(numbers(table, REFERENCE, thesis_setup()), source="Table 5.3", quantity="factor_vae", strength="3")
    assert row["verdict"] == "beyond 2 SE" and math.isclose(row["effect_size"], 2.0, rel_tol=1e-9)
    assert math.isclose(row["diff_in_se"], shift / math.sqrt(2 * 0.031**2 / 10), rel_tol=1e-9)  # ≈ 4.5 SE


def test_the_run_s_own_spread_counts():
    """The same means with a run twice as spread: the difference's standard error grows."""
    narrow = welch_from(0.8, 0.031, 10, 0.737, 0.031, 10)
    wide = welch_from(0.8, 0.062, 10, 0.737, 0.031, 10)
    assert wide.se > narrow.se and abs(wide.z) < abs(narrow.z)
    assert math.isclose(narrow.se, math.sqrt(2 * 0.031**2 / 10)) and math.isclose(narrow.df, 18)


def test_a_spearman_row_is_judged_on_fisher_z_with_both_sides_errors():
    table = thesis_run_table()
    table["kl"] = -table["kl"]  # every ρ with the KL reversed: −0.5 becomes about +0.5
    row = _row(numbers(table, REFERENCE, thesis_setup()), quantity="mig~kl")
    assert row["verdict"] == "beyond 2 SE" and row["run"] > 0.3
    assert math.isclose(row["diff_se"], math.sqrt(2 * 1.06 / 167), rel_tol=1e-9)  # 170 cells on each side


def test_the_best_strength_that_differs_from_the_thesis_is_said():
    table = thesis_run_table()
    table.loc[(table["model"] == "factorvae") & (table["strength"] == 50), "mig"] = 0.4
    row = _row(numbers(table, REFERENCE, thesis_setup()), source="Table 5.6", quantity="mig", model="factorvae")
    assert row["run_strength"] == "50" and "the run's best strength is 50, the thesis' 25" in row["note"]


def _differences(**changes):
    """config/thesis.yaml with some changes (``section__key`` = value), as a Setup."""
    run = copy.deepcopy(THESIS_CONFIG)
    for path, value in changes.items():
        *keys, last = path.split("__")
        target = run
        for key in keys:
            target = target[key]
        target[last] = value
    return thesis_setup(run)


@pytest.mark.parametrize(
    "change, quantity, says",
    [
        (
            {"model__discriminator__hidden_units": 500},
            ("best", "factorvae", "mig"),
            "model.discriminator.hidden_units 500",
        ),
        ({"models__dipvae__variant": "i"}, ("spearman", "all", "mig~kl"), "models.dipvae.variant 'i'"),
        (
            {"models__btcvae__strength_as": "beta"},
            ("spearman", "all", "beta_vae~elbo"),
            "models.btcvae.strength_as 'beta'",
        ),
        (
            {"metrics__unsupervised__num_train": 1000},
            ("spearman", "all", "mig~kl"),
            "metrics.unsupervised.num_train 1000",
        ),
        (
            {"metrics__unsupervised__num_train": 1000},
            ("mean", "betavae", "active_latents"),
            "metrics.unsupervised.num_train",
        ),
        (
            {"figures__active_kl_threshold": 0.5},
            ("mean", "betavae", "active_latents"),
            "an active-latent threshold of 0.5",
        ),
        (
            {"downstream__classifier": "hist_gbt"},
            ("mean", "factorvae", "downstream_10000"),
            "downstream.classifier 'hist_gbt'",
        ),
        (
            {"training__steps": 2000},
            ("best", "betavae", "beta_vae"),
            "2,000 training steps a cell, not the thesis' 345,600",
        ),
    ],
)
def test_every_difference_from_the_thesis_setup_is_named_where_it_matters(change, quantity, says):
    nums = numbers(thesis_run_table(), REFERENCE, _differences(**change))
    kind, model, name = quantity
    rows = nums[(nums["kind"] == kind) & (nums["model"] == model) & (nums["quantity"] == name)]
    assert (
        len(rows)
        and (rows["verdict"] == "not comparable").all()
        and rows["reason"].str.contains(says, regex=False).all()
    )


def test_a_difference_is_not_named_where_it_does_not_matter():
    nums = numbers(thesis_run_table(), REFERENCE, _differences(model__discriminator__hidden_units=500))
    assert (nums[nums["source"] == "Table 5.3"]["reason"] == "").all()  # β-VAE has no discriminator
    assert not nums[nums["model"] == "betavae"]["reason"].str.contains("discriminator").any()
    nums = numbers(thesis_run_table(), REFERENCE, _differences(downstream__classifier="hist_gbt"))
    assert (nums[nums["source"] == "Table 5.3"]["reason"] == "").all()


def test_a_file_that_is_not_the_official_release_is_named_by_the_thesis_config_s_checksum():
    """The data check compares the file with the run's own config; the fidelity page, with config/thesis.yaml's."""
    other = {**OFFICIAL, "sha256": "0" * 64}
    setup = thesis_setup(dataset=other)
    assert setup.data == ["a dSprites file with sha256 000000000000…, not the official 729fa22e884c…"]
    assert thesis_setup().data == []
    npz = {**OFFICIAL, "file": "dsprites.npz"}
    assert "an NPZ with md5" in thesis_setup(dataset=npz).data[0]


def test_both_readings_of_the_thesis_training_length_are_the_thesis_length():
    assert total_steps(THESIS_CONFIG, 737_280) == 345_600 and TEXT_STEPS == 742 * 30
    follows = _differences()
    assert follows.everything == [] and "the reading dislab follows" in follows.length_reading
    text = _differences(training__steps=22_260)
    assert text.everything == [] and "the thesis' text's own count" in text.length_reading
    other = _differences(training__steps=50_000)
    assert (
        any("50,000 training steps a cell" in r for r in other.everything) and "neither reading" in other.length_reading
    )


def test_a_smoke_run_is_said_to_be_one_and_the_thesis_run_is_not():
    import yaml
    from conftest import REPO

    for name, smoke in (("tiny", True), ("config", True), ("thesis", False)):
        config = yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text())
        assert bool(smoke_reasons(config, configured_images(config))) is smoke, name
    assert standard(10).std(ddof=1) == pytest.approx(1)
