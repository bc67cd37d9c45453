import copy

import pytest
import yaml
from conftest import REPO, run_snakemake
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def _load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "thesis.yaml", "tiny.yaml"])
def test_shipped_configs_are_valid(name):
    validate(_load(name), SCHEMA)


def test_thesis_config_holds_the_thesis_numbers():
    cfg = _load("thesis.yaml")
    assert cfg["models"] == {
        "betavae": {"strengths": [1, 3, 10, 30]},
        "factorvae": {"strengths": [5, 10, 25, 50, 100]},
        "btcvae": {"strengths": [1, 3, 6, 10], "sampling": "mws", "strength_as": "lambda"},  # the spec's reading
        "dipvae": {"strengths": [1, 3, 10, 30], "variant": "ii"},
    }
    assert len(cfg["seeds"]) == 10 and cfg["training"]["epochs"] == 30
    assert cfg["model"]["batch_size"] == 64 and cfg["model"]["latent_dim"] == 10
    assert cfg["metrics"]["factor_vae"]["prune_threshold"] == 0.05
    assert cfg["training"]["precision"] == "float32"  # the thesis' arithmetic unless a user trades it


def _mutations():
    def unknown_model(c):
        c["models"]["wizardvae"] = {"strengths": [1]}

    def negative_strength(c):
        c["models"]["betavae"]["strengths"] = [-1]

    def misspelled_key(c):
        c["training"]["epoch"] = c["training"].pop("epochs")

    def missing_key(c):
        del c["model"]["latent_dim"]

    def bad_source(c):
        c["dataset"]["source"] = "ftp"

    def half_precision(c):
        c["training"]["precision"] = "float16"

    def empty_pack(c):
        c["training"]["pack_size"] = 0

    return [
        (unknown_model, "wizardvae"),
        (negative_strength, "-1"),
        (misspelled_key, "epoch"),
        (missing_key, "latent_dim"),
        (bad_source, "ftp"),
        (half_precision, "float16"),
        (empty_pack, "0"),
    ]


@pytest.mark.parametrize("mutate, key", _mutations(), ids=lambda v: getattr(v, "__name__", v))
def test_schema_rejects_bad_config_naming_the_key(mutate, key):
    cfg = copy.deepcopy(_load("tiny.yaml"))
    mutate(cfg)
    with pytest.raises(WorkflowError) as err:
        validate(cfg, SCHEMA)
    assert key in str(err.value)


def test_bad_config_stops_the_workflow_before_any_job(tmp_path):
    cfg = _load("tiny.yaml")
    cfg["training"]["stpes"] = 5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path / "wd", "--cores", "1", "--configfile", str(bad), check=False)
    assert proc.returncode != 0
    assert "stpes" in proc.stderr + proc.stdout
    assert not (tmp_path / "wd" / "resources").exists() and not (tmp_path / "wd" / "results").exists()
