"""The workflow itself: lint, dry runs and an end-to-end run of config/tiny.yaml."""

import json
import re

import pytest
import yaml
from conftest import REPO, run_snakemake

from dislab.figures.registry import figures


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


@pytest.mark.parametrize("name", [f.name for f in figures("generation") + figures("training")])
def test_tiny_makes_the_training_figures(tiny_run, name):
    from PIL import Image

    png = tiny_run / "results" / "figures" / f"{name}.png"
    assert Image.open(png).size[0] > 600 and png.with_suffix(".pdf").stat().st_size > 5_000


@pytest.mark.parametrize("name", [f.name for f in figures("evaluation")])
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
        assert "<table>" in (tables / f"{name}.html").read_text()
    for name in ("fig5_13_metric_correlation", "fig5_16_metric_vs_unsupervised", "fig5_19_downstream_correlation"):
        assert pd.read_csv(tables / f"{name}.csv", index_col=0).shape[1] == 3
    result = json.loads((tiny_run / "results" / "metrics" / "factorvae" / "10" / "seed0.json").read_text())
    assert {"beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "unsupervised", "elbo"} <= set(result)


def test_changing_a_metric_setting_reruns_evaluation_never_training(tiny_run, tmp_path):

    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    cfg["metrics"]["mig"]["num_bins"] = 12
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tiny_run, "-n", "--cores", "1", "--configfile", str(changed))
    jobs = planned_jobs(proc.stdout)
    assert "train" not in jobs and "downstream" not in jobs
    assert jobs["evaluate"] == "7" and jobs["tables"] == "1"


@pytest.mark.parametrize("name", [f.name for f in figures("qualitative")])
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


def embedded_pages(report_html: str) -> dict[str, str]:
    """The HTML results a Snakemake report embeds (as base64 data URIs), by their page title."""
    import base64
    import html as html_lib

    pages = {}
    for data in re.findall(r"data:text/html[^\"']*?;base64,([A-Za-z0-9+/=]+)", report_html):
        text = base64.b64decode(data).decode("utf-8")
        title = re.search(r"<title>(.*?)</title>", text)
        pages[html_lib.unescape(title.group(1)) if title else ""] = text
    return pages


def test_report_builds_offline_and_shows_every_figure_and_its_tables_as_tables(tiny_run):
    run_snakemake(tiny_run, "--report", "results/report.html")
    html = (tiny_run / "results" / "report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for png in (tiny_run / "results" / "figures").glob("*.png"):
        assert png.name in html, f"{png.name} is missing from the report"
    pages = embedded_pages(html)
    titles = " | ".join(pages)
    for title in ("Table 5.3", "Table 5.6", "Figure 5.13", "Figure 5.16", "Fidelity: this run against the thesis"):
        (page,) = [text for name, text in pages.items() if name.startswith(title)] or [None]
        assert page is not None and "<table>" in page and "<td>" in page, (
            f"{title} is not a table in the report: {titles}"
        )
    table_5_3 = next(text for name, text in pages.items() if name.startswith("Table 5.3"))
    assert "<th>β-VAE metric</th>" in table_5_3 and "<td>3</td>" in table_5_3  # a row per β of config/tiny.yaml
    fidelity = pages["Fidelity: this run against the thesis"]
    assert "<h2>Numbers</h2>" in fidelity and "<h2>Claims</h2>" in fidelity and 'class="banner"' in fidelity
    assert "A smoke run: its numbers are not meant to resemble the thesis" in html  # the landing page says so
    # captions name the settings that made each result: config/tiny.yaml's metric sizes, not a file name
    assert "beta_vae (batch_size 16, num_train 50, num_eval 30)" in html
    assert "--job" not in html  # a job's parameters are its params, not one escaped JSON argument
