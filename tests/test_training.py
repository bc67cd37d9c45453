import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO

from dislab.errors import TrainingError
from dislab.models.objectives import REGISTRY
from dislab.training.batches import BatchSampler, unpack_images
from dislab.cells import Cell
from dislab.training.trainer import CellTrainer, TrainSettings, pick_device, train_cell

TINY = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())


def settings(model="betavae", **training):
    options = {k: v for k, v in TINY["models"].get(model, {}).items() if k != "strengths"}
    train = {**TINY["training"], **training}
    return {"model": TINY["model"], "training": train, "options": options}


def test_unpacking_on_the_device_matches_numpy(tiny_data, device):
    packed = torch.from_numpy(tiny_data.packed[:50]).to(device)
    unpacked = unpack_images(packed)[:, 0].to(torch.uint8).cpu()
    assert torch.equal(unpacked, torch.from_numpy(tiny_data.images(range(50))))


def test_data_order_is_a_permutation_per_epoch_and_depends_only_on_seed_and_step(tiny_data, device):
    packed = torch.from_numpy(tiny_data.packed).to(device)
    sampler = BatchSampler(packed, 16, seed=3)
    epoch = torch.cat([sampler.indices(s) for s in range(sampler.steps_per_epoch)])
    assert sorted(epoch.tolist()) == list(range(len(tiny_data)))
    again = BatchSampler(packed, 16, seed=3)
    assert torch.equal(again.indices(sampler.steps_per_epoch + 5), sampler.indices(sampler.steps_per_epoch + 5))
    assert not torch.equal(BatchSampler(packed, 16, seed=4).indices(0), sampler.indices(0))
    assert not torch.equal(sampler.indices(0, stream=1), sampler.indices(0))


@pytest.mark.parametrize("model", sorted(REGISTRY))
def test_a_few_steps_lower_the_loss_on_a_fixed_batch(tiny_data, model, device):
    torch.manual_seed(0)
    cfg = settings(model)
    s = TrainSettings.from_config(cfg)
    trainer = CellTrainer(tiny_data.packed, Cell(model, 4.0, 0), s, device)
    for group in trainer.optimizer.param_groups:
        group["lr"] = 1e-3
    x = trainer.sampler.batch(0)
    draws = trainer.objective.draw(len(x), s.latent_dim, torch.Generator(device).manual_seed(0), device)

    def loss():
        noise = torch.randn((len(x), s.latent_dim), generator=torch.Generator(device).manual_seed(1), device=device)
        out = trainer.model(x, noise)
        return trainer.objective.loss(out, x, 0, draws, discriminator=trainer.discriminator)["loss"]

    first = loss().item()
    for _ in range(25):
        trainer.optimizer.zero_grad()
        loss().backward()
        trainer.optimizer.step()
    assert loss().item() < 0.8 * first


def _weights(path):
    return torch.load(path, weights_only=False)["model"]


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_same_seed_same_weights_other_seed_other_weights(tiny_data, tmp_path, device):
    s = TrainSettings.from_config(settings("factorvae", steps=12))
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        train_cell(tiny_data.packed, Cell("factorvae", 10, seed), s, tmp_path / name, device=device, progress=False)
    assert _same(_weights(tmp_path / "a" / "model.pt"), _weights(tmp_path / "b" / "model.pt"))
    assert not _same(_weights(tmp_path / "a" / "model.pt"), _weights(tmp_path / "c" / "model.pt"))
    assert not (tmp_path / "a" / "resume.pt").exists()


def test_outputs_log_every_part(tiny_data, tmp_path, device):
    s = TrainSettings.from_config(settings("btcvae", steps=8, log_every=4))
    summary = train_cell(tiny_data.packed, Cell("btcvae", 6, 0), s, tmp_path, device=device, progress=False)
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert list(log.columns) == ["step", "epoch", "loss", "reconstruction", "kl", "tc", "regulariser",
                                 "disc_loss", "steps_per_s"]
    assert log["step"].tolist() == [4, 8] and log["tc"].notna().all() and log["disc_loss"].isna().all()
    assert summary["parameters"] == 502_005 and summary["steps"] == 8
    assert json.loads((tmp_path / "summary.json").read_text())["cell"]["model"] == "btcvae"


def _train_cmd(data, outdir, steps, device):
    cfg = settings("dipvae", steps=steps, checkpoint_every=20, log_every=20)
    return [sys.executable, "-m", "dislab", "train", "--data", str(data), "--model", "dipvae", "--strength", "10",
            "--seed", "0", "--settings", json.dumps(cfg), "--device", str(device), "--threads", "1",
            "--outdir", str(outdir)]


def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_hdf5, tmp_path, device):
    steps = 200
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    straight = _train_cmd(tiny_hdf5, tmp_path / "straight", steps, device)
    subprocess.run(straight, check=True, env=env, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(tiny_hdf5, killed, steps, device), env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (killed / "resume.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "model.pt").exists(), "the run finished before it could be killed"
    checkpoint_step = torch.load(killed / "resume.pt", weights_only=False)["step"]
    assert 0 < checkpoint_step < steps

    rerun = subprocess.run(_train_cmd(tiny_hdf5, killed, steps, device), env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed dipvae/10/seed0 from step {checkpoint_step}" in rerun.stderr
    assert _same(_weights(tmp_path / "straight" / "model.pt"), _weights(killed / "model.pt"))
    a = pd.read_csv(tmp_path / "straight" / "train_log.csv").drop(columns="steps_per_s")
    b = pd.read_csv(killed / "train_log.csv").drop(columns="steps_per_s")
    pd.testing.assert_frame_equal(a, b)


def poison_loss_at(monkeypatch, model: str, at: int) -> None:
    """Make ``model``'s loss NaN at step ``at`` (for one cell and for a pack alike)."""
    original = REGISTRY[model].loss

    def poisoned(self, out, x, step, draws, **kwargs):
        parts = original(self, out, x, step, draws, **kwargs)
        if step == at:
            parts["loss"] = parts["loss"] * float("nan")
        return parts

    monkeypatch.setattr(REGISTRY[model], "loss", poisoned)


def test_nan_stops_the_job_naming_cell_and_step_and_keeps_the_last_checkpoint(tiny_data, tmp_path, monkeypatch,
                                                                                device):
    s = TrainSettings.from_config(settings("betavae", steps=30, checkpoint_every=5, log_every=5))
    poison_loss_at(monkeypatch, "betavae", 7)
    with pytest.raises(TrainingError, match=r"betavae/3/seed0.*step 7.*checkpoint \(step 5\) is kept"):
        train_cell(tiny_data.packed, Cell("betavae", 3, 0), s, tmp_path, device=device, progress=False)
    assert torch.load(tmp_path / "resume.pt", weights_only=False)["step"] == 5
    assert not (tmp_path / "model.pt").exists()


@pytest.mark.parametrize("requested", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_cuda_request_without_a_gpu_is_a_clear_error(tiny_data, tmp_path, requested):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(TrainingError, match=f"'{requested}' but no CUDA GPU"):
        train_cell(tiny_data.packed, Cell("betavae", 1, 0), TrainSettings.from_config(settings()), tmp_path,
                   device=requested, progress=False)


def test_a_gpu_index_beyond_the_visible_ones_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(TrainingError, match=r"'cuda:2' but only 2 CUDA GPU\(s\) are visible \(cuda:0 to cuda:1\)"):
        pick_device("cuda:2")
