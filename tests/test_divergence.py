"""A training run that diverges, is interrupted or meets a transient error stops at once, in one line, and keeps only
what is sound (dislab/training/loop.py, dislab/cli.py)."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import REPO, ctrl_c_as_in_a_terminal, on, train_job
from test_training import settings

from dislab import cli
from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.models.objectives import REGISTRY
from dislab.training.cell import CellTrainer
from dislab.training.loop import LOSS_BOUND
from dislab.training.settings import TrainSettings
from dislab.training.trainer import train


def poison(monkeypatch, model: str, steps, factor=float("nan")) -> None:
    """Multiply ``model``'s loss by ``factor`` at the (0-based) ``steps``: NaN makes the gradients and then the weights
    NaN; a large finite factor makes the loss finite but out of range."""
    original = REGISTRY[model].loss

    def poisoned(self, out, x, step, draws, **kwargs):
        parts = original(self, out, x, step, draws, **kwargs)
        if int(step) in steps:
            parts["loss"] = parts["loss"] * factor
        return parts

    monkeypatch.setattr(REGISTRY[model], "loss", poisoned)


BETA3 = Cell("betavae", 3, 0)


def _train(tiny_data, outdir, s, device, checkpoint_every=5, cell=BETA3):
    return train(
        tiny_data.packed, [cell], s, [outdir], on(device, s), checkpoint_every=checkpoint_every, progress=False
    )


def _nothing_written(outdir):
    return not any((outdir / name).exists() for name in ("model.pt", "summary.json", "train_log.csv"))


def test_a_nan_logged_every_step_stops_the_cell_without_writing_a_model(tiny_data, tmp_path, monkeypatch, device):
    """The run the old check let through: with log_every 1 each log window is one step, all NaN once it diverged."""
    s = TrainSettings.from_config(settings("betavae", steps=30, log_every=1))
    poison(monkeypatch, "betavae", {2})  # the third step
    with pytest.raises(TrainingError, match=r"betavae/3/seed0 diverged at step 3 of 30: its loss was nan.*no check"):
        _train(tiny_data, tmp_path, s, device)
    assert _nothing_written(tmp_path) and not (tmp_path / "resume.pt").exists()


def test_a_log_window_that_is_nan_throughout_stops_at_its_first_step(tiny_data, tmp_path, monkeypatch, device):
    s = TrainSettings.from_config(settings("betavae", steps=30, log_every=4))
    poison(monkeypatch, "betavae", set(range(8, 30)))  # every step from the 9th: the windows 9-12, 13-16 ... all NaN
    with pytest.raises(TrainingError, match=r"diverged at step 9 of 30.*checkpoint after step 5"):
        _train(tiny_data, tmp_path, s, device)
    assert _nothing_written(tmp_path)
    assert torch.load(tmp_path / "resume.pt", weights_only=False)["step"] == 5


def test_a_loss_that_explodes_but_stays_finite_stops_and_keeps_a_checkpoint_in_range(
    tiny_data, tmp_path, monkeypatch, device
):
    s = TrainSettings.from_config(settings("betavae", steps=30, log_every=5))
    poison(monkeypatch, "betavae", set(range(12, 30)), factor=1e6)  # finite, a million times too large
    with pytest.raises(
        TrainingError, match=r"diverged at step 13 of 30: its loss was .*more than 1,000 times its first"
    ):
        _train(tiny_data, tmp_path, s, device)
    assert _nothing_written(tmp_path)
    kept = torch.load(tmp_path / "resume.pt", weights_only=False)
    losses = np.array([row["loss"] for row in kept["rows"]])
    assert kept["step"] == 10 and np.isfinite(losses).all()
    assert (np.abs(losses) <= LOSS_BOUND * abs(kept["first_loss"])).all()


@pytest.mark.parametrize("log_every", [1, 100])
def test_a_learning_rate_of_10_diverges_at_once_and_keeps_no_checkpoint(tiny_data, tmp_path, device, log_every):
    """The real thing, no poison: the weights blow up at the first update; the kept checkpoint used to log 1e36."""
    cfg = settings("betavae", steps=30, log_every=log_every)
    cfg["model"] = {**cfg["model"], "learning_rate": 10.0}
    s = TrainSettings.from_config(cfg)
    with pytest.raises(TrainingError, match=r"diverged at step 2 of 30: .*no checkpoint had been written"):
        _train(tiny_data, tmp_path, s, device, cell=Cell("betavae", 1, 0))
    assert _nothing_written(tmp_path) and not (tmp_path / "resume.pt").exists()


def test_weights_that_are_not_finite_after_the_last_step_write_no_model(tiny_data, tmp_path, monkeypatch, device):
    """Every logged loss finite, but the last update left the weights non-finite."""
    s = TrainSettings.from_config(settings("betavae", steps=10, log_every=5))
    real = CellTrainer.train_step

    def last_step_breaks_the_weights(self, step):
        values = real(self, step)
        if step == 9:
            with torch.no_grad():
                next(self.model.parameters()).fill_(float("inf"))
        return values

    monkeypatch.setattr(CellTrainer, "train_step", last_step_breaks_the_weights)
    with pytest.raises(TrainingError, match=r"diverged at step 10 of 10: its weights are not finite"):
        _train(tiny_data, tmp_path, s, device)
    assert _nothing_written(tmp_path)


def test_a_healthy_run_stays_within_the_bound(tiny_data, tmp_path, device):
    """The bound is no false alarm: every model of the registry trains through it, its losses well inside."""
    for model in sorted(REGISTRY):
        s = TrainSettings.from_config(settings(model, steps=12, log_every=1))
        (summary,) = _train(tiny_data, tmp_path / model, s, device, cell=Cell(model, 10.0, 0))
        assert summary["steps"] == 12 and summary["warnings"] == []


# -- Ctrl-C and SIGTERM -----------------------------------------------------------------------------------------------
def _long_training(tiny_hdf5, outdir):
    cfg = settings("betavae", steps=5000, log_every=20, checkpoint_every=20)
    cfg["model"] = {k: v for k, v in cfg["model"].items() if k != "discriminator"}
    return [sys.executable, "-m", "dislab", *train_job(tiny_hdf5, outdir, cfg, "cpu", "betavae", "1", threads=1)]


@pytest.mark.parametrize(
    "sig, says, status", [(signal.SIGINT, "interrupted (Ctrl-C)", 130), (signal.SIGTERM, "stopped by SIGTERM", 143)]
)
def test_an_interrupted_training_is_one_line_naming_the_step_and_resumable(tiny_hdf5, tmp_path, sig, says, status):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        _long_training(tiny_hdf5, tmp_path),
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    deadline = time.time() + 120
    while not (tmp_path / "resume.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # a step or two past the checkpoint
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    last = stderr.strip().splitlines()[-1]
    kept = torch.load(tmp_path / "resume.pt", weights_only=False)["step"]
    assert proc.returncode == status and "Traceback" not in stderr, stderr[-3000:]
    assert last.startswith(f"dislab train: betavae/1/seed0: {says} during step "), last
    assert last.endswith(f"of 5000; a rerun resumes after step {kept}"), last
    assert not (tmp_path / "model.pt").exists()


def test_other_commands_interrupted_say_so_in_one_line(monkeypatch, capsys):
    def interrupted(job):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "render", interrupted)
    assert cli.run("render", cli.Job.of({})) == 130
    assert capsys.readouterr().err.strip() == "dislab render: interrupted (Ctrl-C); a rerun runs this job again"


# -- transient errors -------------------------------------------------------------------------------------------------
def test_a_transient_io_error_runs_the_job_again_and_says_so(monkeypatch, caplog):
    calls = []

    def flaky(job):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.ESTALE, "Stale file handle")

    monkeypatch.setitem(cli.COMMANDS, "render", flaky)
    monkeypatch.setattr(cli, "RETRY_PAUSE_S", 0)
    assert cli.run("render", cli.Job.of({})) == 0 and len(calls) == 2
    assert "a transient I/O error" in caplog.text and "running the job again" in caplog.text


def test_an_error_that_is_not_transient_is_not_retried(monkeypatch):
    calls = []

    def missing(job):
        calls.append(1)
        raise OSError(errno.ENOENT, "No such file or directory")

    monkeypatch.setitem(cli.COMMANDS, "render", missing)
    monkeypatch.setattr(cli, "RETRY_PAUSE_S", 0)
    with pytest.raises(FileNotFoundError):
        cli.run("render", cli.Job.of({}))
    assert len(calls) == 1


def test_lost_progress_is_kept_in_the_summary(tiny_data, tmp_path, device, caplog):
    s = TrainSettings.from_config(settings("betavae", steps=6, log_every=2))
    (tmp_path / "resume.pt").write_bytes(b"half a checkpoint")
    (summary,) = _train(tiny_data, tmp_path, s, device, cell=Cell("betavae", 1, 0))
    (warning,) = summary["warnings"]
    assert "resume.pt is unreadable" in warning and "trained again from step 0" in warning
    assert json.loads((tmp_path / "summary.json").read_text())["warnings"] == [warning]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [warning]  # and in the job's log
