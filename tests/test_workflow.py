"""The workflow itself: lint, dry runs and an end-to-end run of config/tiny.yaml."""

import json

import pytest
from conftest import REPO, run_snakemake


def test_lint_is_clean(tmp_path):
    proc = run_snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny_run")
    run_snakemake(workdir, "--cores", "2")
    return workdir


def test_tiny_end_to_end_makes_figure_5_1(tiny_run):
    from PIL import Image

    png = tiny_run / "results" / "figures" / "fig5_01_dataset.png"
    assert png.stat().st_size > 10_000 and png.with_suffix(".pdf").stat().st_size > 5_000
    width, height = Image.open(png).size
    assert width > 800 and height > 400
    summary = json.loads((tiny_run / "results" / "data" / "dataset.json").read_text())
    assert summary["images"] == 1536 and summary["factor_sizes"] == [3, 2, 4, 8, 8]


def test_tiny_trains_every_model_of_the_registry(tiny_run):
    import pandas as pd
    import yaml

    from dislab.models.objectives import REGISTRY

    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    assert set(cfg["models"]) == set(REGISTRY)
    for model, entry in cfg["models"].items():
        for strength in entry["strengths"]:
            for seed in cfg["seeds"]:
                cell = tiny_run / "results" / "models" / model / f"{strength:g}" / f"seed{seed}"
                log = pd.read_csv(cell / "train_log.csv")
                assert log["step"].iloc[-1] == cfg["training"]["steps"]
                assert (cell / "model.pt").stat().st_size > 2_000_000
                assert not (cell / "resume.pt").exists()


@pytest.mark.parametrize("name", ["fig5_02_prior_samples", "fig5_03_reconstructions",
                                  "fig5_04_reconstruction_per_epoch", "fig5_07_objective_per_beta"])
def test_tiny_makes_the_training_figures(tiny_run, name):
    from PIL import Image

    png = tiny_run / "results" / "figures" / f"{name}.png"
    assert Image.open(png).size[0] > 600 and png.with_suffix(".pdf").stat().st_size > 5_000


def test_thesis_config_plans_170_training_jobs(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile="config/thesis.yaml")
    counts = dict(line.split()[:2] for line in proc.stdout.splitlines() if line.startswith("train "))
    assert counts["train"] == "170"


def test_second_run_has_nothing_to_do(tiny_run):
    proc = run_snakemake(tiny_run, "--cores", "1", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_a_synthetic_file_is_refused_as_the_official_release(tmp_path, tiny_hdf5):
    from dislab.data.check import check_dataset
    from dislab.errors import DatasetError

    cfg = {"source": "path", "sha256": "729fa22e884c9c500e1f17415d580746b4c5894fbbb780a1319bbcfa39a745bb"}
    with pytest.raises(DatasetError, match="not the official dSprites release"):
        check_dataset(tiny_hdf5, cfg)


def test_default_config_downloads_the_real_file(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile="config/config.yaml")
    out = proc.stdout + proc.stderr
    assert "download_dsprites" in out and "render_dsprites" not in out
