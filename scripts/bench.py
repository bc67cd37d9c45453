#!/usr/bin/env python
"""Training speed on this machine: the plain eager PyTorch loop against dislab's training step, in the same run.

    python scripts/bench.py                      # every device present
    python scripts/bench.py --device cuda --pack 10 --steps 50

Every variant runs in a process of its own, as a training job does. All of them start and take ``--warmup``
steps (compilation happens there); then, for ``--rounds`` rounds, each times ``--steps`` steps in turn, the others
waiting, so a shared machine's drift slows all variants alike. It reports per variant the median over the rounds:
steps/s and images/s per cell (a pack of k cells counts k cell-steps per step), the ratio to the plain eager loop
(each round's rate over that round's reference), and the projected wall time of the thesis grid (``--config``: 170
cells x 345,600 steps of batch 64) on one such device, jobs run one after the other (the "side by side" CPU
variants: one single-threaded job per core at once, their rates summed; the GPU's "3 at once" variants: three pack
jobs sharing the GPU). A variant that fails is reported with its error and the others still run (the exit status
is then 1). First it prints the FLOPs of a step (PyTorch's FlopCounterMode) and what a large matmul reaches: the
device's arithmetic yardstick.

The plain eager loop, the reference, is the thesis architecture written the obvious way: PyTorch's own layers
(nn.ConvTranspose2d, bias inside the convolution), float32, default memory layout, a fixed batch, β-VAE loss, Adam,
the C library's allocator defaults; its line shows the lowest and highest of its rounds. The same loop with
dislab's allocator setting (dislab/allocator.py) is a variant. dislab's variants run the real trainer (CellTrainer /
PackTrainer) on random bit-packed images of the full dataset's size: data order, batch gathering and unpacking
included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn

from dislab.allocator import keep_freed_memory
from dislab.cells import Cell
from dislab.models.networks import VAE, ConvTranspose2d
from dislab.models.objectives import kl_per_dim
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.pack import PackTrainer
from dislab.training.precision import has_native_bfloat16
from dislab.training.settings import TrainSettings

DATASET_SIZE = 737_280
REFERENCE = "plain eager loop"


class Variant(NamedTuple):
    pack: bool  # a pack of --pack cells (else one cell)
    precision: str
    channels_last: bool
    compile: bool = False
    cuda_graphs: bool = False  # the step's compiled parts recorded as CUDA graphs (torch.compile "reduce-overhead")
    stock_layers: bool = False  # PyTorch's own nn.ConvTranspose2d and Adam (foreach) in the real trainer
    # Several jobs at once, their rates summed: what the grid needs, though no single step is faster. per_core: one
    # single-threaded process per CPU core (Snakemake with train jobs of one thread each); processes: that many
    # processes sharing the device (on a GPU, several training jobs overlap each other's launch overhead).
    per_core: bool = False
    processes: int = 1


# None: the plain eager loop with dislab's allocator setting.
CPU_VARIANTS = {
    "plain eager loop, allocator kept": None,
    "cell float32": Variant(False, "float32", False),
    "cell float32 channels-last, stock layers": Variant(False, "float32", True, stock_layers=True),
    "cell float32 channels-last": Variant(False, "float32", True),
    "cell float32 channels-last compiled": Variant(False, "float32", True, compile=True),
    "cell bfloat16 channels-last, stock layers": Variant(False, "bfloat16", True, stock_layers=True),
    "cell bfloat16 channels-last": Variant(False, "bfloat16", True),
    "cell bfloat16 channels-last compiled": Variant(False, "bfloat16", True, compile=True),
    "pack float32": Variant(True, "float32", False),
    "side by side float32 channels-last": Variant(False, "float32", True, per_core=True),
    "side by side bfloat16 channels-last": Variant(False, "bfloat16", True, per_core=True),
}
CUDA_VARIANTS = {
    "cell float32": Variant(False, "float32", False),
    "cell float32 channels-last": Variant(False, "float32", True),  # config/thesis.yaml's setting
    "cell tf32": Variant(False, "tf32", False),
    "cell bfloat16": Variant(False, "bfloat16", False),
    "cell bfloat16 compiled": Variant(False, "bfloat16", False, compile=True),
    "cell bfloat16 CUDA graphs": Variant(False, "bfloat16", False, cuda_graphs=True),
    "pack tf32": Variant(True, "tf32", False),
    "pack bfloat16": Variant(True, "bfloat16", False),
    "pack bfloat16 compiled": Variant(True, "bfloat16", False, compile=True),
    "pack bfloat16 CUDA graphs": Variant(True, "bfloat16", False, cuda_graphs=True),
    "3 at once: pack bfloat16": Variant(True, "bfloat16", False, processes=3),
    "3 at once: pack bfloat16 compiled": Variant(True, "bfloat16", False, compile=True, processes=3),
}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(step, device, steps) -> float:
    """Calls per second of step(i)."""
    sync(device)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    sync(device)
    return steps / (time.perf_counter() - start)


def matmul_flops_per_s(device, dtype, size=2048) -> float:
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    timed(lambda _: a @ b, device, 3)
    return 2 * size**3 * timed(lambda _: a @ b, device, 10)


def flops_per_step(device, batch, latent_dim) -> int:
    """Forward + backward FLOPs of one training step, counted by PyTorch (convolutions and matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = VAE(latent_dim).to(device)
    x = torch.rand(batch, 1, 64, 64, device=device)
    with FlopCounterMode(display=False) as counter:
        logits, mu, logvar, _ = model(x, torch.randn(batch, latent_dim, device=device))
        (F.binary_cross_entropy_with_logits(logits, x) + kl_per_dim(mu, logvar).sum()).backward()
    return counter.get_total_flops()


def use_stock_layers(model: VAE) -> VAE:
    """Put PyTorch's own nn.ConvTranspose2d layers (same parameters) in place of dislab's in the decoder."""
    for i, layer in enumerate(model.decoder.net):
        if isinstance(layer, ConvTranspose2d):
            stock = nn.ConvTranspose2d(
                layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding
            ).to(layer.weight.device)
            stock.load_state_dict(layer.state_dict())
            model.decoder.net[i] = stock
    return model


def plain_eager_loop(device, batch, latent_dim):
    torch.manual_seed(0)
    model = use_stock_layers(VAE(latent_dim)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = (torch.rand(batch, 1, 64, 64, device=device) > 0.9).float()
    noise = torch.randn(batch, latent_dim, device=device)

    def step(_):
        logits, mu, logvar, _ = model(x, noise)
        loss = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch + kl_per_dim(mu, logvar).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def with_cuda_graphs(trainer):
    """``trainer``'s step with its compiled parts (dislab.training.step's two losses, vmapped for a pack) under
    ``torch.compile(mode="reduce-overhead")``, which records CUDA graphs; each step tells the graphs it begins, so
    that the last step's outputs may be reused."""
    trainer.vae_step = torch.compile(trainer.vae_step, mode="reduce-overhead")
    if trainer.disc_step is not None:
        trainer.disc_step = torch.compile(trainer.disc_step, mode="reduce-overhead")

    def step(i):
        torch.compiler.cudagraph_mark_step_begin()
        return trainer.train_step(i)

    return step


def variant_step(name, device, cfg, pack_size):
    """The step function of one variant and the number of cells it advances."""
    batch, latent_dim = cfg["model"]["batch_size"], cfg["model"]["latent_dim"]
    if name == REFERENCE:
        return plain_eager_loop(device, batch, latent_dim), 1
    keep_freed_memory()
    variants = CUDA_VARIANTS if device.type == "cuda" else CPU_VARIANTS
    if variants[name] is None:
        return plain_eager_loop(device, batch, latent_dim), 1
    variant = variants[name]
    packed = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(DATASET_SIZE, 64, 8), dtype=np.uint8)).to(
        device
    )
    training = {**cfg["training"], "precision": variant.precision}
    settings = TrainSettings.from_config({"model": cfg["model"], "training": training, "options": {}})
    execution = Execution(device, variant.channels_last, variant.compile)
    if variant.pack:
        cells = [Cell("betavae", 4.0, seed) for seed in range(pack_size)]
        pack = PackTrainer(packed, cells, settings, execution)
        return (with_cuda_graphs(pack) if variant.cuda_graphs else pack.train_step), pack_size
    trainer = CellTrainer(packed, Cell("betavae", 4.0, 0), settings, execution)
    if variant.cuda_graphs:
        return with_cuda_graphs(trainer), 1
    if variant.stock_layers:
        use_stock_layers(trainer.model)
        if variant.channels_last:
            trainer.model.to(memory_format=torch.channels_last)
        trainer.optimizer = torch.optim.Adam(
            trainer.model.parameters(), lr=settings.learning_rate, betas=settings.adam_betas
        )
    return trainer.train_step, 1


def serve_variant(args, cfg) -> None:
    """In the variant's own process: warm up, print "ready", then time one round for each line read on stdin and
    print its cell-steps per second."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.on)
    step, cells = variant_step(args.variant, device, cfg, args.pack)
    for i in range(args.warmup):
        step(i)
    print("ready", flush=True)
    for _ in sys.stdin:
        print(timed(step, device, args.steps) * cells, flush=True)


class VariantFailed(RuntimeError):
    pass


def _ready(line: str) -> str:
    if line != "ready":
        raise ValueError(line)
    return line


class VariantProcesses:
    """The process(es) of one variant, started at once, timed round by round: one process, or one per CPU core
    (the "side by side" variants), or several sharing the GPU (the "at once" ones), whose rates add up."""

    def __init__(self, name, device: str, args, pack_size):
        variant = (CUDA_VARIANTS if device == "cuda" else CPU_VARIANTS).get(name)
        per_core = variant is not None and variant.per_core
        count = len(os.sched_getaffinity(0)) if per_core else (variant.processes if variant else 1)
        cmd = [
            sys.executable,
            __file__,
            "--variant",
            name,
            "--on",
            device,
            "--pack",
            str(pack_size),
            "--config",
            args.config,
            "--steps",
            str(args.steps),
            "--warmup",
            str(args.warmup),
            "--threads",
            "1" if per_core else "0",
        ]
        self.errors = [tempfile.TemporaryFile("w+") for _ in range(count)]
        self.jobs = [
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
            for err in self.errors
        ]

    def wait_ready(self) -> None:
        self._read_all(_ready)

    def round(self) -> float:
        """One timed round of every process at once: their cell-steps per second, summed."""
        for job in self.jobs:
            job.stdin.write("go\n")
            job.stdin.flush()
        return sum(self._read_all(float))

    def close(self) -> None:
        for job in self.jobs:
            if job.poll() is None:
                job.stdin.close()
            job.wait()
        for err in self.errors:
            err.close()

    def _read_all(self, parse):
        """Each process's next line, parsed; a process that wrote something else (it died: nothing) is stopped and
        VariantFailed raised with the end of its error output."""
        values = []
        for job in self.jobs:
            try:
                values.append(parse(job.stdout.readline().strip()))
            except ValueError:
                job.kill()
                job.wait()
                raise VariantFailed(self._error_output()) from None
        return values

    def _error_output(self) -> str:
        texts = []
        for err in self.errors:
            err.seek(0)
            texts.append(err.read())
        return max(texts, key=len)[-3000:] or "its process ended without an error message"


def time_in_turns(names, device: str, args, pack_size) -> dict:
    """Each variant's rate in every round, or None if it failed (its error is printed; the others go on).

    All variants start and warm up first; then every round times them one after the other, so a machine whose speed
    drifts (a shared one does) slows every variant alike, and each round's ratio to the reference compares like
    with like."""
    processes = {name: VariantProcesses(name, device, args, pack_size) for name in names}
    rates = {name: [] for name in names}

    def attempt(name, action):
        try:
            return action()
        except VariantFailed as failure:
            rates[name] = None
            print(f"{device}: variant {name!r} failed:\n{failure}", file=sys.stderr, flush=True)

    for name, variant in processes.items():
        attempt(name, variant.wait_ready)
    for _ in range(args.rounds):
        for name, variant in processes.items():
            if rates[name] is not None:
                time.sleep(0.2)  # the last variant's OpenMP threads stop spinning
                rate = attempt(name, variant.round)
                if rates[name] is not None:
                    rates[name].append(rate)
    for variant in processes.values():
        variant.close()
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds of every variant, taken in turns; the median counts"
    )
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps first (compilation happens here)")
    parser.add_argument("--pack", type=int, default=None, help="cells per pack (default: 2 on a CPU, 10 on a GPU)")
    parser.add_argument("--only", nargs="*", help="run only the variants whose names contain one of these")
    parser.add_argument("--config", default="config/thesis.yaml")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # set in a variant's own process
    parser.add_argument("--on", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)  # 0: torch's default
    args = parser.parse_args()

    cfg = yaml.safe_load(open(args.config))
    if args.variant:
        return serve_variant(args, cfg)
    batch = cfg["model"]["batch_size"]
    cells = sum(len(m["strengths"]) for m in cfg["models"].values()) * len(cfg["seeds"])
    steps_per_cell = cfg["training"]["steps"] or round(cfg["training"]["epochs"] * (DATASET_SIZE // batch))
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])}
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    print(f"thesis grid: {cells} cells x {steps_per_cell:,} steps of batch {batch}")

    def report(device, name, rounds, eager_rounds):
        """Median rate over the rounds; the ratio is the median of each round's rate over the reference's."""
        rate = float(np.median(rounds))
        ratio = float(np.median(np.array(rounds) / np.array(eager_rounds)))
        hours = cells * steps_per_cell / rate / 3600
        print(f"{device:6} {name:44} {rate:8.1f} {rate * batch:9.0f} {ratio:8.2f}x {hours:15,.1f} h", flush=True)

    status = 0  # 1 if a variant failed
    for device in devices[args.device]:
        k = args.pack or (10 if device == "cuda" else 2)
        flops = flops_per_step(torch.device(device), batch, cfg["model"]["latent_dim"])
        for dtype in (torch.float32, torch.bfloat16):
            if dtype == torch.bfloat16 and not has_native_bfloat16(torch.device(device)):
                print(f"{device}: no bfloat16 arithmetic in hardware (no AVX-512 BF16 or AMX): it is emulated")
                continue
            peak = matmul_flops_per_s(torch.device(device), dtype)
            print(
                f"{device}: a step is {flops / 1e9:.2f} GFLOP; a 2048x2048 {str(dtype)[6:]} matmul runs at "
                f"{peak / 1e9:,.0f} GFLOP/s, which is {peak / flops:,.1f} steps/s"
            )
        variants = CUDA_VARIANTS if device == "cuda" else CPU_VARIANTS
        names = [n for n in variants if not args.only or any(o in n for o in args.only)]
        rates = time_in_turns([REFERENCE] + names, device, args, k)
        if rates[REFERENCE] is None:
            print(f"{device}: the reference failed, so nothing is compared", file=sys.stderr)
            status = 1
            continue
        print(f"{'device':6} {'variant':44} {'steps/s':>8} {'images/s':>9} {'vs eager':>9} {'grid on 1 device':>17}")
        eager = rates[REFERENCE]
        report(device, f"{REFERENCE} (rounds: {min(eager):.1f}-{max(eager):.1f})", eager, eager)
        for name in names:
            label = name.replace("pack", f"pack of {k}")
            if rates[name] is None:
                print(f"{device:6} {label:44} {'failed (its error is above)':>45}")
                status = 1
            else:
                report(device, label, rates[name], eager)
    return status


if __name__ == "__main__":
    sys.exit(main())
