"""What a user on a cluster (or a laptop) meets: what reruns, what a config means, where errors show, what is left
behind, and whether a job can silently train on the wrong device."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
import yaml
from conftest import REPO, run_snakemake, train_job
from test_workflow import planned_jobs

TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())


def tiny_with(tmp_path, name="changed.yaml", **sections):
    """config/tiny.yaml with some keys changed: ``sections`` maps a section to the keys to update in it."""
    cfg = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())
    for section, values in sections.items():
        if isinstance(cfg[section], dict) and isinstance(values, dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def plan(workdir, configfile):
    return planned_jobs(run_snakemake(workdir, "-n", "--cores", "1", configfile=configfile).stdout)


# -- only what changed reruns ---------------------------------------------------------------------------------------
def test_the_discriminator_retrains_factorvae_alone(tiny_run, tmp_path):
    model = {**TINY["model"], "discriminator": {**TINY["model"]["discriminator"], "hidden_units": 500}}
    jobs = plan(tiny_run, tiny_with(tmp_path, model=model))
    assert jobs["train"] == "1", jobs  # of the 7 cells, only factorvae/10/seed0
    assert jobs["evaluate"] == "1" and jobs["downstream"] == "1"


@pytest.mark.parametrize(
    "change",
    [
        {"training": {"epochs": 3}},  # tiny sets steps, which override epochs
        {"training": {"checkpoint_every": 7}},  # resuming is exact: the cadence changes no weights
        {"dataset": {"path": "/elsewhere/dsprites.hdf5"}},  # the renderer is the source: the path is unused
        {"dataset": {"sha256": "0" * 64}},  # and so is the official file's checksum
    ],
)
def test_a_key_no_cell_reads_retrains_nothing(tiny_run, tmp_path, change):
    jobs = plan(tiny_run, tiny_with(tmp_path, **change))
    assert not {"train", "render_dsprites", "check_dataset", "evaluate"} & set(jobs), jobs


def test_the_checkpoint_cadence_reruns_nothing_but_the_index_that_names_the_config_file(tiny_run, tmp_path):
    """Nor do the fan-in jobs rerun when the config lists the same grid in another order (tiny_with sorts keys)."""
    jobs = plan(tiny_run, tiny_with(tmp_path, training={"checkpoint_every": 7}))
    assert set(jobs) - {"all", "total", "jobid:"} == {"results_index"}, jobs


def test_steps_retrain_every_cell(tiny_run, tmp_path):
    assert plan(tiny_run, tiny_with(tmp_path, training={"steps": 25}))["train"] == "7"


# -- what a config means --------------------------------------------------------------------------------------------
def test_a_config_file_replaces_the_default_instead_of_merging_into_it(tmp_path):
    vae = {"model": "betavae", "strength": 1, "seed": 0}
    figures = {
        **TINY["figures"],
        **{k: vae for k in ("fig5_05", "fig5_06", "fig5_08", "fig5_17", "fig5_18")},
        "fig5_10": [vae],
        "fig5_12": [vae],
    }
    only_betavae = tiny_with(tmp_path, figures=figures)
    cfg = yaml.safe_load(only_betavae.read_text())
    cfg["models"] = {"betavae": {"strengths": [1, 4]}}
    only_betavae.write_text(yaml.safe_dump(cfg))
    jobs = plan(tmp_path / "run", only_betavae)
    assert jobs["train"] == "2", jobs  # config/config.yaml's FactorVAE, β-TCVAE and DIP-VAE are not added


def test_a_partial_config_file_is_refused_saying_it_must_be_complete(tmp_path):
    partial = tmp_path / "partial.yaml"
    partial.write_text(yaml.safe_dump({"training": {"steps": 10}}))
    proc = run_snakemake(tmp_path / "run", "-n", configfile=partial, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "a --configfile is a complete config" in out
    assert "at (top level): 'dataset' is a required property" in out


def test_results_readme_names_the_config_the_data_and_the_report_command(tiny_run):
    text = (tiny_run / "results" / "README.md").read_text()
    configfile = str(REPO / "config" / "tiny.yaml")
    assert f"from `{configfile}`" in text and "offline renderer" in text
    assert f"snakemake --report results/report.html --configfile {configfile}" in " ".join(text.split())


def test_the_workflow_runs_as_a_module_of_another_workflow(tmp_path):
    host = tmp_path / "host"
    (host / "config").mkdir(parents=True)
    shutil.copy(REPO / "config" / "tiny.yaml", host / "config" / "config.yaml")
    (host / "Snakefile").write_text(
        textwrap.dedent(f"""\
        configfile: "config/config.yaml"


        module dislab:
            snakefile:
                "{REPO / "Snakefile"}"
            config:
                config


        use rule * from dislab as dislab_*


        rule all:
            input:
                rules.dislab_all.input,
            default_target: True
        """)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1"], cwd=host, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = planned_jobs(proc.stdout)
    assert jobs["dislab_train"] == "7" and jobs["dislab_results_index"] == "1", jobs
    assert str(REPO / "workflow" / "report" / "table5_3.rst") in proc.stdout  # captions from this checkout


# -- the device -----------------------------------------------------------------------------------------------------
def _no_gpu_here():
    from dislab.gpu import no_gpu_here

    return no_gpu_here()


def test_a_local_run_with_device_cuda_and_no_gpu_stops_before_any_job(tmp_path):
    if not _no_gpu_here():
        pytest.skip("this machine has a GPU")
    config = tiny_with(tmp_path, training={"device": "cuda"})
    assert "train" in plan(tmp_path / "run", config)  # a dry run plans it
    proc = run_snakemake(tmp_path / "run", "--cores", "1", configfile=config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "training.device is 'cuda' but" in out and "nothing was run" in out
    assert not (tmp_path / "run" / "resources").exists() and not (tmp_path / "run" / "results").exists()


def test_a_dry_run_with_device_cuda_on_a_machine_without_a_gpu_says_where_training_must_run(tmp_path):
    if not _no_gpu_here():
        pytest.skip("this machine has a GPU")
    proc = run_snakemake(
        tmp_path / "run", "-n", "--cores", "1", configfile=tiny_with(tmp_path, training={"device": "cuda"})
    )
    out = proc.stdout + proc.stderr
    lines = [line for line in out.splitlines() if "every training job needs a GPU node" in line]
    assert len(lines) == 1 and "--profile slurm" in lines[0], out[-3000:]
    assert "train" in planned_jobs(proc.stdout)  # the plan is shown all the same
    quiet = run_snakemake(tmp_path / "run", "-n", "--cores", "1", configfile=tiny_with(tmp_path, "cpu.yaml"))
    assert "GPU node" not in quiet.stdout + quiet.stderr  # a CPU config says nothing


def _run_train(args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "dislab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


def _train(tmp_path, device, data="missing.hdf5", env=None):
    settings = {k: TINY[k] for k in ("model", "training")}
    return _run_train(train_job(tmp_path / data, tmp_path / "out", settings, device), env=env)


@pytest.mark.parametrize(
    "device, env, says",
    [
        ("cuda", {}, "training.device is 'cuda' but torch 2.13.0"),
        ("cuda:1", {"CUDA_VISIBLE_DEVICES": ""}, "CUDA_VISIBLE_DEVICES='' hides every GPU"),
        ("auto", {"CUDA_VISIBLE_DEVICES": "0"}, "this job was given a GPU (CUDA_VISIBLE_DEVICES=0)"),
        ("auto", {"SLURM_JOB_GPUS": "3"}, "this job was given a GPU (SLURM_JOB_GPUS=3)"),
    ],
)
def test_a_training_job_without_its_gpu_stops_before_reading_data(tmp_path, device, env, says):
    if torch.cuda.is_available():
        pytest.skip("torch sees a GPU here")
    proc = _train(tmp_path, device, env=env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and lines[-1].startswith("dislab train: error: "), proc.stderr
    assert says in lines[-1] and "CONDA_OVERRIDE_CUDA" in lines[-1] and "missing.hdf5" not in proc.stderr
    assert len(lines) == 1  # the error is the log's only line: nothing ran before it


def test_a_device_that_is_not_one_is_a_one_line_error(tmp_path):
    proc = _train(tmp_path, "gpu")
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "dislab train: error: training.device is 'gpu': it must be auto, cpu, cuda or cuda:N"
    ], proc.stderr


def test_a_job_that_does_not_match_its_command_is_a_one_line_error():
    """A rule and the package that disagree on a name (an old checkout's rules, a typo) say which name, not a
    traceback."""
    job = {"input": {"data": "d.hdf5"}, "output": {"metrics": "m.json"}, "params": {"settings": {}}}
    proc = _run_train(["evaluate", "--job", json.dumps(job)])
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "dislab evaluate: error: the job has no input named 'model' (it has data): the rule and the dislab package "
        "it runs do not match; run the workflow of this checkout"
    ], proc.stderr
    for text, says in (("{not json", "--job is not JSON"), ("[]", "--job is not a JSON object")):
        proc = _run_train(["evaluate", "--job", text])
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr


def test_the_training_log_opens_with_the_run_and_the_summary_keeps_it(tiny_run):
    first = (tiny_run / "logs" / "train" / "factorvae" / "10" / "seed0.log").read_text().splitlines()[0]
    assert "run: device cpu, torch 2.13.0" in first and "precision float32, pack of 1" in first, first
    summary = json.loads((tiny_run / "results" / "models" / "factorvae" / "10" / "seed0" / "summary.json").read_text())
    assert summary["run"] == {
        "device": "cpu",
        "gpu": None,
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "precision": "float32",
        "pack_size": 1,
        "channels_last": True,
        "compile": False,
    }


# -- errors reach the terminal ------------------------------------------------------------------------------------
def test_a_failed_job_s_message_is_printed_where_snakemake_runs(tmp_path):
    bad = tmp_path / "mine.npz"
    bad.write_bytes(b"not dSprites")
    config = tiny_with(tmp_path, dataset={"source": "path", "path": str(bad)})
    proc = run_snakemake(tmp_path / "run", "--cores", "1", "results/data/dataset.json", configfile=config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert out.count(f"dislab check-dataset: error: {bad} has md5") == 1, out  # printed once: no retry
    assert "Replace it with a good copy" in out and "Trying to restart" not in out
    assert "Delete it" not in out  # the user's own file is replaced, never deleted


def test_a_diverged_cell_is_printed_once_not_retried_and_writes_no_model(tmp_path):
    config = tiny_with(tmp_path, model={**TINY["model"], "learning_rate": 10.0})
    cell = "results/models/betavae/1/seed0"
    proc = run_snakemake(tmp_path / "run", "--cores", "1", f"{cell}/model.pt", configfile=config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and out.count("betavae/1/seed0 diverged at step 2 of 24") == 1, out[-4000:]
    assert "Trying to restart" not in out and not (tmp_path / "run" / cell / "model.pt").exists()


def test_a_damaged_model_file_is_printed_once(tiny_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run, symlinks=True)
    model = run / "results" / "models" / "betavae" / "1" / "seed0" / "model.pt"
    model.write_bytes(model.read_bytes()[:1000])  # cut short, as by a full disk in an older version
    proc = run_snakemake(run, "--cores", "1", "results/metrics/betavae/1/seed0.json", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and out.count(f"model checkpoint {model.relative_to(run)} is unreadable") == 1, out
    assert "Trying to restart" not in out


def test_lost_progress_is_printed_at_the_end_of_the_run_and_kept_in_the_summary(tmp_path):
    cell = tmp_path / "run" / "results" / "models" / "betavae" / "1" / "seed0"
    cell.mkdir(parents=True)
    (cell / "resume.pt").write_bytes(b"the first bytes of a checkpoint")
    target = "results/models/betavae/1/seed0/model.pt"
    proc = run_snakemake(tmp_path / "run", "--cores", "1", target, configfile=tiny_with(tmp_path))
    out = proc.stdout + proc.stderr
    end = out[out.index("dislab: 1 job(s) of this run logged warnings:") :]
    assert "logs/train/betavae/1/seed0.log: betavae/1/seed0: its checkpoint" in end, out[-3000:]
    assert "is unreadable" in end and "it trained again from step 0" in end
    (warning,) = json.loads((cell / "summary.json").read_text())["warnings"]
    assert "is unreadable" in warning


def test_a_user_npz_that_is_not_the_official_release_is_refused(tmp_path, tiny_data):
    import numpy as np

    from dislab.data.check import check_dataset
    from dislab.errors import DatasetError

    npz = tmp_path / "dsprites.npz"
    np.savez(
        npz,
        imgs=tiny_data.images(range(len(tiny_data))),
        latents_classes=tiny_data.classes,
        latents_values=tiny_data.values,
    )
    with pytest.raises(DatasetError, match=r"has md5 [0-9a-f]{32}, expected 7da33b31b13a06f4b04a70402ce90c2e"):
        check_dataset(npz, TINY["dataset"] | {"source": "path"})
    official = {"source": "path", "npz_md5": hashlib.md5(npz.read_bytes()).hexdigest()}  # as if it were the release
    summary = check_dataset(npz, TINY["dataset"] | official)
    assert summary["images"] == len(tiny_data)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system (tmpfs): room for the logs, not for a model."""
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and needs root: {proc.stderr}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, tiny_hdf5, small_disk):
    settings = {k: TINY[k] for k in ("model", "training")} | {"options": {}}
    proc = _run_train(train_job(tiny_hdf5, small_disk / "cell", settings, "cpu"))
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert last.startswith(f"dislab train: error: no space left on device writing {small_disk / 'cell'}/"), last
    assert [p.name for p in (small_disk / "cell").iterdir()] == [], "a temporary or half-written file was left"


# -- what is kept -----------------------------------------------------------------------------------------------------
def test_the_same_weights_give_the_same_bytes_and_stale_temporary_files_are_removed(tmp_path, tiny_data):
    from dislab.cells import Cell
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings
    from dislab.training.trainer import train

    settings = TrainSettings.from_config({k: TINY[k] for k in ("model", "training")} | {"options": {}})
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        (tmp_path / run / ".model.pt.k1ll3d.pt").write_bytes(b"left by a SIGKILL")
        (tmp_path / run / ".resume.pt.k1ll3d.pt").write_bytes(b"left by a SIGKILL")
        train(
            tiny_data.packed,
            [Cell("betavae", 1, 0)],
            settings,
            [tmp_path / run],
            Execution(torch.device("cpu")),
            progress=False,
        )
    digests = {run: hashlib.sha256((tmp_path / run / "model.pt").read_bytes()).hexdigest() for run in ("a", "b")}
    assert digests["a"] == digests["b"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["model.pt", "summary.json", "train_log.csv"]


def test_a_checkpoint_is_not_written_over_with_weights_that_are_not_finite(tmp_path, tiny_data, caplog):
    from dislab.cells import Cell
    from dislab.training.cell import CellTrainer
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings

    settings = TrainSettings.from_config({k: TINY[k] for k in ("model", "training")} | {"options": {}})
    trainer = CellTrainer(tiny_data.packed, Cell("betavae", 1, 0), settings, Execution(torch.device("cpu")))
    trainer.step = 10
    trainer.save(tmp_path / "resume.pt")
    trainer.step = 20
    with torch.no_grad():
        next(trainer.model.parameters())[0] = float("inf")
    trainer.save(tmp_path / "resume.pt")
    assert torch.load(tmp_path / "resume.pt", weights_only=False)["step"] == 10 and trainer.saved_step == 10
    assert "not finite" in caplog.text
