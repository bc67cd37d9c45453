"""The faster ways to run a step (compiled, CUDA graphs, channels-last, packed, bfloat16) compute the same loss."""

import importlib.util

import pytest
import torch
from conftest import REPO, on
from test_training import settings

from dislab.cells import Cell
from dislab.training import precision
from dislab.training.cell import CellTrainer
from dislab.training.pack import PackTrainer
from dislab.training.precision import set_precision
from dislab.training.settings import TrainSettings
from dislab.training.step import Step

CPU = torch.device("cpu")


def _with_cuda_graphs(trainer):
    """scripts/bench.py's CUDA-graph variant of ``trainer`` (torch.compile's reduce-overhead mode; on a CPU it
    compiles as the default mode does): its step function."""
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.with_cuda_graphs(trainer)


@pytest.fixture(autouse=True)
def strict_float32():
    yield
    set_precision("float32")


def _loss_and_grads(trainer, x, noise, draws):
    parts, _ = trainer.forward_loss(x, noise, draws, 0)
    trainer.optimizer.zero_grad()
    parts["loss"].backward()
    return parts["loss"].detach(), [p.grad.clone() for p in trainer.model.parameters()]


def _fixed_batch(trainer):
    x = trainer.sampler.batch(0)
    noise, draws = trainer.draw_for_loss(len(x))
    return x, noise, draws


@pytest.mark.parametrize("how", [{"compile": True}, "cuda graphs", {"channels_last": True}])
def test_a_faster_step_gives_the_eager_loss_and_gradients_on_a_fixed_batch(tiny_data, how, device):
    if how == "cuda graphs" and device.type != "cuda":
        pytest.skip("CUDA graphs exist on a GPU only: on a CPU this mode compiles as the compile case does")
    s = TrainSettings.from_config(settings("btcvae"))
    eager = CellTrainer(tiny_data.packed, Cell("btcvae", 6.0, 0), s, on(device, s))
    fast = CellTrainer(
        tiny_data.packed, Cell("btcvae", 6.0, 0), s, on(device, s, **({} if how == "cuda graphs" else how))
    )
    if how == "cuda graphs":
        _with_cuda_graphs(fast)  # compiles fast's step functions in reduce-overhead mode
    batch = _fixed_batch(eager)
    loss, grads = _loss_and_grads(eager, *batch)
    fast_loss, fast_grads = _loss_and_grads(fast, *batch)
    torch.testing.assert_close(fast_loss, loss, rtol=1e-5, atol=0)
    for g, f in zip(grads, fast_grads):
        torch.testing.assert_close(f, g, rtol=1e-3, atol=1e-3 * g.abs().max().item())


def test_a_compiled_pack_step_gives_the_eager_pack_step(tiny_data, device):
    s = TrainSettings.from_config(settings("factorvae"))
    cells = [Cell("factorvae", 10.0, seed) for seed in (0, 1)]
    eager_pack = PackTrainer(tiny_data.packed, cells, s, on(device, s))
    eager = torch.stack([eager_pack.train_step(step) for step in range(3)])
    assert eager.shape == (3, 2, 6)
    # CUDA graphs (scripts/bench.py; recorded from the second call on) exist on a GPU only; on a CPU that mode
    # compiles as the default one does, at the price of another cold compilation in CI.
    steps = [PackTrainer(tiny_data.packed, cells, s, on(device, s, compile=True)).train_step]
    if device.type == "cuda":
        steps.append(_with_cuda_graphs(PackTrainer(tiny_data.packed, cells, s, on(device, s))))
    for step_fn in steps:
        compiled = torch.stack([step_fn(step) for step in range(3)])
        torch.testing.assert_close(compiled[0], eager[0], rtol=1e-5, atol=1e-6, equal_nan=True)
        torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5, equal_nan=True)


def test_bfloat16_rounds_the_forward_pass_but_keeps_the_loss_close(tiny_data, device):
    float32, bfloat16 = (TrainSettings.from_config(settings(precision=p)) for p in ("float32", "bfloat16"))
    exact = CellTrainer(tiny_data.packed, Cell("betavae", 4.0, 0), float32, on(device, float32))
    rounded = CellTrainer(tiny_data.packed, Cell("betavae", 4.0, 0), bfloat16, on(device, bfloat16))
    batch = _fixed_batch(exact)
    loss, _ = _loss_and_grads(exact, *batch)
    bf16_loss, grads = _loss_and_grads(rounded, *batch)
    assert bf16_loss.dtype == torch.float32 and all(g.dtype == torch.float32 for g in grads)
    assert bf16_loss != loss  # autocast is on
    assert abs(bf16_loss - loss) / loss < 1e-2
    with pytest.raises(ValueError, match="training.precision"):
        set_precision("float16")


@pytest.mark.parametrize("avx512_bf16, amx, warned", [(False, False, True), (True, False, False), (False, True, False)])
def test_bfloat16_on_a_cpu_that_emulates_it_warns_in_the_log(monkeypatch, caplog, avx512_bf16, amx, warned):
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    precision.warn_if_emulated("float32", CPU)
    assert not caplog.records
    precision.warn_if_emulated("bfloat16", CPU)
    assert [r.levelname for r in caplog.records] == (["WARNING"] if warned else [])
    if warned:
        assert "emulated" in caplog.text and "training.precision: float32" in caplog.text


def test_the_vae_step_computes_no_gradient_for_the_discriminator(tiny_data, device):
    s = TrainSettings.from_config(settings("factorvae"))
    trainer = CellTrainer(tiny_data.packed, Cell("factorvae", 10.0, 0), s, on(device, s))
    parts, _ = trainer.forward_loss(*_fixed_batch(trainer), 0)
    parts["tc"].backward()
    assert all(p.grad is None for p in trainer.discriminator.parameters())  # its own step computes those
    encoder_grads = [p.grad for p in trainer.model.encoder.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in encoder_grads)  # the TC term still trains the encoder


def test_in_bfloat16_the_discriminator_is_rounded_too_and_returns_float32_logits(tiny_data, device):
    s = TrainSettings.from_config(settings("factorvae"))
    trainer = CellTrainer(tiny_data.packed, Cell("factorvae", 10.0, 0), s, on(device, s))
    params = dict(trainer.discriminator.named_parameters())
    z = torch.randn(64, trainer.settings.latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
    exact = Step(trainer.objective, trainer.model, trainer.discriminator, device, "float32").discriminator_fn(params)(z)
    rounded = Step(trainer.objective, trainer.model, trainer.discriminator, device, "bfloat16").discriminator_fn(
        params
    )(z)
    assert torch.equal(exact, trainer.discriminator(z))
    assert rounded.dtype == torch.float32 and not torch.equal(rounded, exact)
    torch.testing.assert_close(rounded, exact, rtol=0, atol=0.05 * exact.abs().max().item())
