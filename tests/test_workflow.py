"""The workflow itself: lint, dry runs and an end-to-end run of config/tiny.yaml."""

import json
import re

import pytest
import yaml
from conftest import REPO, run_snakemake


def planned_jobs(stdout: str) -> dict:
    """The 'Job stats' table of a dry run: rule -> count."""
    rows = (line.split() for line in stdout.splitlines())
    return {r[0]: r[1] for r in rows if len(r) == 2 and r[1].isdigit()}


def test_lint_is_clean(tmp_path):
    proc = run_snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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


@pytest.mark.parametrize(
    "name",
    [
        "fig5_02_prior_samples",
        "fig5_03_reconstructions",
        "fig5_04_reconstruction_per_epoch",
        "fig5_07_objective_per_beta",
    ],
)
def test_tiny_makes_the_training_figures(tiny_run, name):
    from PIL import Image

    png = tiny_run / "results" / "figures" / f"{name}.png"
    assert Image.open(png).size[0] > 600 and png.with_suffix(".pdf").stat().st_size > 5_000


EVALUATION_FIGURES = [
    "fig5_09_reconstruction_vs_betavae_metric",
    "fig5_11_reconstruction_by_model",
    "fig5_13_metric_correlation",
    "fig5_14_metric_distribution",
    "fig5_15_factorvae_metric_vs_lambda",
    "fig5_16_metric_vs_unsupervised",
    "fig5_19_downstream",
]


@pytest.mark.parametrize("name", EVALUATION_FIGURES)
def test_tiny_makes_the_evaluation_figures(tiny_run, name):
    from PIL import Image

    png = tiny_run / "results" / "figures" / f"{name}.png"
    assert Image.open(png).size[0] > 500 and png.with_suffix(".pdf").stat().st_size > 5_000


def test_tiny_makes_every_table(tiny_run):
    import pandas as pd

    tables = tiny_run / "results" / "tables"
    metrics = pd.read_csv(tables / "metrics.csv")
    assert len(metrics) == 7 and metrics[["beta_vae", "factor_vae", "mig", "elbo"]].notna().all().all()
    assert metrics["downstream_100"].notna().all() and "sample_efficiency" in metrics
    for name in ("table5_3", "table5_6"):
        assert (tables / f"{name}.csv").exists() and (tables / f"{name}.md").read_text().startswith("|")
    for name in ("fig5_13_metric_correlation", "fig5_16_metric_vs_unsupervised", "fig5_19_downstream_correlation"):
        assert pd.read_csv(tables / f"{name}.csv", index_col=0).shape[1] == 3
    result = json.loads((tiny_run / "results" / "metrics" / "factorvae" / "10" / "seed0.json").read_text())
    assert {"beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "unsupervised", "elbo"} <= set(result)


def test_changing_a_metric_setting_reruns_evaluation_never_training(tiny_run, tmp_path):
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg["metrics"]["mig"]["num_bins"] = 12
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tiny_run, "-n", "--cores", "1", "--configfile", str(changed))
    jobs = planned_jobs(proc.stdout)
    assert "train" not in jobs and "downstream" not in jobs
    assert jobs["evaluate"] == "7" and jobs["tables"] == "1"


QUALITATIVE_FIGURES = [
    "fig5_05_traversal",
    "fig5_06_encoder_kde",
    "fig5_08_traversal",
    "fig5_10_traversals",
    "fig5_12_aggregate_posterior",
    "fig5_17_corrupted_inputs",
    "fig5_18_domain_shift",
]


@pytest.mark.parametrize("name", QUALITATIVE_FIGURES)
def test_tiny_makes_the_qualitative_figures(tiny_run, name):
    from PIL import Image

    png = tiny_run / "results" / "figures" / f"{name}.png"
    width, height = Image.open(png).size
    assert width > 800 and height > 200 and png.with_suffix(".pdf").stat().st_size > 5_000
    assert Image.open(png).convert("L").getextrema()[0] < 100  # something dark is drawn, not a blank page


def test_results_index_lists_every_output_file(tiny_run):
    index = (tiny_run / "results" / "README.md").read_text()
    for folder in ("figures", "tables"):
        for path in (tiny_run / "results" / folder).iterdir():
            assert f"({folder}/{path.name})" in index, f"{folder}/{path.name} is not in results/README.md"
    assert "Thesis Figure 5.13" in index and "Thesis Table 5.3" in index


def test_report_builds_offline_and_links_every_figure(tiny_run):
    run_snakemake(tiny_run, "--report", "results/report.html")
    html = (tiny_run / "results" / "report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for png in (tiny_run / "results" / "figures").glob("*.png"):
        assert png.name in html, f"{png.name} is missing from the report"
    assert "Thesis Table 5.3" in html
    assert "dataset.source" in html or "synthetic" in html  # captions name the config that made each result


def test_thesis_config_plans_170_training_jobs(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile="config/thesis.yaml")
    assert planned_jobs(proc.stdout)["train"] == "170"


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


def test_packs_train_seeds_together_and_each_cell_keeps_its_files(tmp_path):
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg["seeds"] = [0, 1, 2]
    cfg["training"]["pack_size"] = 2
    configfile = tmp_path / "packs.yaml"
    configfile.write_text(yaml.safe_dump(cfg))
    workdir = tmp_path / "run"
    cells = [workdir / "results" / "models" / "dipvae" / "10" / f"seed{seed}" for seed in (0, 1, 2)]
    targets = [str(c.relative_to(workdir) / "model.pt") for c in cells]
    lint = run_snakemake(workdir, "--lint", configfile=configfile, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    plan = planned_jobs(run_snakemake(workdir, "-n", *targets, configfile=configfile).stdout)
    assert plan.get("train_dipvae_10_seeds0_1") == "1" and plan.get("train_dipvae_10_seeds2") == "1"
    run_snakemake(workdir, "--cores", "2", *targets, configfile=configfile)
    for cell, pack_size in zip(cells, (2, 2, 1)):
        summary = json.loads((cell / "summary.json").read_text())
        assert summary["pack_size"] == pack_size and summary["steps"] == cfg["training"]["steps"]
        assert (cell / "train_log.csv").exists() and not (cell / "resume.pt").exists()
    assert "training a pack of 2 cells" in (workdir / "logs/train/dipvae/10/seeds0-1.log").read_text()

    assert "Nothing to be done" in run_snakemake(workdir, "-n", *targets, configfile=configfile).stdout
    (cells[2] / "model.pt").unlink()  # stale-only rerun: only the pack holding seed 2
    plan = planned_jobs(run_snakemake(workdir, "-n", *targets, configfile=configfile).stdout)
    assert plan.get("train_dipvae_10_seeds2") == "1" and "train_dipvae_10_seeds0_1" not in plan


NAME_MAX = 255  # bytes in one file name (ext4, xfs, Lustre, GPFS)


@pytest.fixture(scope="module")
def workflow_rules(tmp_path_factory):
    """Every rule name of the tiny and the thesis configs (packs of seeds are rules of their own)."""
    workdir = tmp_path_factory.mktemp("rules")
    return {
        rule
        for config in ("config/tiny.yaml", "config/thesis.yaml")
        for rule in run_snakemake(workdir, "--list-rules", configfile=config).stdout.split()
    }


def test_slurm_job_scripts_have_names_a_file_system_takes(workflow_rules):
    """Snakemake writes each submission's job script, and for a job with over 20 inputs a
    '<script>.waitforfilesfile.txt' beside it, under the profile's `jobname`. A name over NAME_MAX makes the Slurm
    plugin (2.8.0) drop the submission silently, and the run waits forever."""
    profile = "profiles/default"  # the workflow profile, which every run of this workflow loads
    jobname = yaml.safe_load((REPO / profile / "config.yaml").read_text()).get("jobname", "snakejob.{name}.{jobid}.sh")
    rules = workflow_rules
    groups = set(re.findall(r'group:\s*"(\w+)"', "".join(p.read_text() for p in (REPO / "workflow").rglob("*.smk"))))
    assert rules and groups
    # a pooled job's {name}: its group, then up to five of its rules' names; here the five longest of all
    pooled = "_".join([max(groups, key=len), *sorted(rules, key=len)[-5:], "..."])
    jobid = "6ec4d5a7-4f25-5224-b9b6-f6f12c9431aa"  # a pooled job's id is a UUID
    jobs = [{"name": rule, "rulename": rule} for rule in rules] + [{"name": pooled, "rulename": "GROUP"}]
    for job in jobs:
        script = jobname.format(jobid=jobid, rule=job["rulename"], **job)
        assert len(f"{script}.waitforfilesfile.txt".encode()) <= NAME_MAX, f"{profile}: {script}"


def test_tiny_writes_the_fidelity_table_and_checks_the_claims(tiny_run):
    import pandas as pd

    tables = tiny_run / "results" / "tables"
    nums = pd.read_csv(tables / "fidelity.csv")
    compared = nums[nums["verdict"] != "not run"]
    assert len(compared) >= 10 and (compared["verdict"] == "not comparable").all()
    assert compared["reason"].str.contains("renderer").all() and compared["reason"].str.contains("24 training").all()
    assert set(nums["verdict"]) == {"not comparable", "not run"}
    checks = pd.read_csv(tables / "fidelity_claims.csv")
    assert set(checks["status"]) <= {"PASS", "FAIL", "NOT RUN"} and (checks["status"] != "NOT RUN").sum() >= 4
    page = (tables / "fidelity.md").read_text()
    assert "## Units" in page and "nats per image" in page and "read as **lambda**" in page
    assert "fidelity.md" in (tiny_run / "results" / "README.md").read_text()
