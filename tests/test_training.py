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
from conftest import REPO, on, train_job

from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.models.objectives import REGISTRY
from dislab.training.batches import BatchSampler, unpack_images
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution, pick_device
from dislab.training.settings import TrainSettings
from dislab.training.trainer import train

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
    trainer = CellTrainer(tiny_data.packed, Cell(model, 4.0, 0), s, on(device, s))
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
        train(tiny_data.packed, [Cell("factorvae", 10, seed)], s, [tmp_path / name], on(device, s), progress=False)
    assert _same(_weights(tmp_path / "a" / "model.pt"), _weights(tmp_path / "b" / "model.pt"))
    assert not _same(_weights(tmp_path / "a" / "model.pt"), _weights(tmp_path / "c" / "model.pt"))
    assert not (tmp_path / "a" / "resume.pt").exists()


def test_outputs_log_every_part(tiny_data, tmp_path, device):
    s = TrainSettings.from_config(settings("btcvae", steps=8, log_every=4))
    (summary,) = train(tiny_data.packed, [Cell("btcvae", 6, 0)], s, [tmp_path], on(device, s), progress=False)
    log = pd.read_csv(tmp_path / "train_log.csv")
    assert list(log.columns) == [
        "step",
        "epoch",
        "loss",
        "reconstruction",
        "kl",
        "tc",
        "regulariser",
        "disc_loss",
        "steps_per_s",
    ]
    assert log["step"].tolist() == [4, 8] and log["tc"].notna().all() and log["disc_loss"].isna().all()
    assert summary["parameters"] == 502_005 and summary["steps"] == 8
    assert json.loads((tmp_path / "summary.json").read_text())["cell"]["model"] == "btcvae"


def _train_cmd(data, outdir, steps, device):
    cfg = settings("dipvae", steps=steps, checkpoint_every=20, log_every=20)
    cfg["model"] = {k: v for k, v in cfg["model"].items() if k != "discriminator"}  # as the rule passes it
    return [sys.executable, "-m", "dislab", *train_job(data, outdir, cfg, device, "dipvae", "10", threads=1)]


def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_hdf5, tmp_path, device):
    steps = 200 if device.type == "cpu" else 4000  # a GPU runs 180 steps in a blink
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    straight = _train_cmd(tiny_hdf5, tmp_path / "straight", steps, device)
    subprocess.run(straight, check=True, env=env, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(tiny_hdf5, killed, steps, device), env=env, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (killed / "resume.pt").exists() and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGSTOP)  # frozen where it stands: the point below is one it has not passed
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "model.pt").exists(), "the run finished before it could be killed"
    checkpoint_step = torch.load(killed / "resume.pt", weights_only=False)["step"]
    assert 0 < checkpoint_step < steps

    rerun = subprocess.run(_train_cmd(tiny_hdf5, killed, steps, device), env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed dipvae/10/seed0 after step {checkpoint_step}" in rerun.stderr
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


def test_nan_stops_the_job_naming_cell_and_step_and_keeps_the_last_checkpoint(tiny_data, tmp_path, monkeypatch, device):
    s = TrainSettings.from_config(settings("betavae", steps=30, log_every=5))
    poison_loss_at(monkeypatch, "betavae", 7)  # the 8th step
    with pytest.raises(TrainingError, match=r"betavae/3/seed0 diverged at step 8 of 30.*checkpoint after step 5"):
        train(
            tiny_data.packed, [Cell("betavae", 3, 0)], s, [tmp_path], on(device, s), checkpoint_every=5, progress=False
        )
    assert torch.load(tmp_path / "resume.pt", weights_only=False)["step"] == 5
    assert not (tmp_path / "model.pt").exists()


@pytest.mark.parametrize("requested", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_cuda_request_without_a_gpu_is_a_clear_error(requested):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(TrainingError, match=f"'{requested}' but torch .* sees no GPU here"):
        Execution.build(requested)


def test_a_gpu_index_beyond_the_visible_ones_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert pick_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(TrainingError, match=r"'cuda:2' but only 2 CUDA GPU\(s\) are visible \(cuda:0 to cuda:1\)"):
        pick_device("cuda:2")


class CudaLikeGenerator:
    """A CPU generator that refuses what a CUDA generator refuses: ``set_state`` with anything but a CPU byte
    tensor ("RNG state must be a torch.ByteTensor")."""

    def __init__(self, generator):
        self.generator = generator

    def get_state(self):
        return self.generator.get_state()

    def set_state(self, state):
        if state.device.type != "cpu" or state.dtype != torch.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        self.generator.set_state(state)


def _loads_as_on_a_gpu(monkeypatch):
    """torch.load as a GPU run sees it: a map_location that is not the CPU moves every tensor off the CPU (here to
    the meta device, which a CPU-only machine has)."""
    real = torch.load

    def load(f, map_location=None, **kwargs):
        if map_location is not None and torch.device(map_location).type != "cpu":
            return real(f, map_location=lambda storage, _: storage.to("meta"), **kwargs)
        return real(f, map_location=map_location, **kwargs)

    monkeypatch.setattr(torch, "load", load)


def _checkpointed(tiny_data, tmp_path, device_type: str) -> TrainSettings:
    """A resume.pt at step 5 of betavae/1/seed0 that says it was written on ``device_type``."""
    s = TrainSettings.from_config(settings("betavae", steps=20, log_every=5))
    trainer = CellTrainer(tiny_data.packed, Cell("betavae", 1, 0), s, on(torch.device("cpu"), s))
    for step in range(5):
        trainer.train_step(step)
    trainer.step = 5
    state = trainer.state()
    state["device_type"] = device_type
    torch.save(state, tmp_path / "resume.pt")
    return s


def test_a_gpu_run_resumes_its_checkpoint(tiny_data, tmp_path, monkeypatch):
    """The resume path of a GPU run, on a CPU: the trainer's device says cuda, torch.load maps as it would there,
    and the noise generator takes only a CPU byte tensor, as a CUDA one does."""
    s = _checkpointed(tiny_data, tmp_path, "cuda")
    resumed = CellTrainer(tiny_data.packed, Cell("betavae", 1, 0), s, on(torch.device("cpu"), s))
    resumed.device = torch.device("cuda")  # what a GPU run's trainer holds; its tensors stay where they are here
    resumed.noise = CudaLikeGenerator(resumed.noise)
    _loads_as_on_a_gpu(monkeypatch)
    assert resumed.try_resume(tmp_path / "resume.pt") and resumed.step == 5


def test_a_checkpoint_from_another_kind_of_device_restarts_the_cell_saying_so(tiny_data, tmp_path, caplog):
    s = _checkpointed(tiny_data, tmp_path, "cuda")
    resumed = CellTrainer(tiny_data.packed, Cell("betavae", 1, 0), s, on(torch.device("cpu"), s))
    assert not resumed.try_resume(tmp_path / "resume.pt") and resumed.step == 0
    assert "was written on cuda and this job runs on cpu" in caplog.text and "from step 0" in caplog.text
    state = torch.load(tmp_path / "resume.pt", weights_only=False)  # one of before the device was recorded
    del state["device_type"]
    torch.save(state, tmp_path / "resume.pt")
    assert resumed.try_resume(tmp_path / "resume.pt") and resumed.step == 5  # a CPU generator's state: CPU


@pytest.mark.parametrize("precision", ["float32", "tf32", "bfloat16", "tf32", "float32"])
def test_every_reader_of_the_float32_precision_works_after_set_precision(precision):
    from dislab.training.precision import set_precision

    set_precision(precision)
    tf32 = precision == "tf32"
    assert torch.backends.cuda.matmul.allow_tf32 is tf32 and torch.backends.cudnn.allow_tf32 is tf32
    assert torch.get_float32_matmul_precision() == ("high" if tf32 else "highest")
    assert torch.backends.cuda.matmul.fp32_precision == ("tf32" if tf32 else "ieee")
    assert torch.backends.cudnn.conv.fp32_precision in (("tf32",) if tf32 else ("ieee", "none"))
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_evaluation_takes_no_device_it_would_half_use():
    """Evaluation runs on the CPU: its entry points take no device (one they moved data to but not the model)."""
    import inspect

    from dislab.evaluation.evaluate import evaluate_model
    from dislab.evaluation.representation import EncoderMeans

    assert "device" not in inspect.signature(evaluate_model).parameters
    assert "device" not in inspect.signature(EncoderMeans).parameters
