#!/usr/bin/env python
"""Training speed on this machine: the plain eager PyTorch loop against dislab's training step, in the same run.

    python scripts/bench.py                      # every device present
    python scripts/bench.py --device cuda --pack 10 --steps 50

For each variant it prints steps/s and images/s per cell (a pack of k cells counts k cell-steps per step), the
ratio to the plain eager loop measured just before it on the same device, and the projected wall time of the
thesis grid (``--config``: 170 cells x 345,600 steps of batch 64) on one such device, the jobs run one after the
other. The plain loop is the thesis architecture written the obvious way: float32, default memory layout, a
fixed batch, β-VAE loss, Adam. dislab's variants run the real trainer (CellTrainer / PackTrainer) on random
bit-packed images of the full dataset's size: data order, batch gathering and unpacking included.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from dislab.cells import Cell
from dislab.models.networks import VAE
from dislab.models.objectives import kl_per_dim
from dislab.training.pack import PackTrainer
from dislab.training.trainer import CellTrainer, TrainSettings

DATASET_SIZE = 737_280

# (name, pack size or None for one cell, precision, channels_last, compile)
CPU_VARIANTS = [
    ("cell float32", None, "float32", False, False),
    ("cell float32 channels-last", None, "float32", True, False),
    ("cell bfloat16 channels-last", None, "bfloat16", True, False),
    ("cell bfloat16 channels-last compiled", None, "bfloat16", True, True),
    ("pack float32", "k", "float32", False, False),
]
CUDA_VARIANTS = [
    ("cell float32", None, "float32", False, False),
    ("cell tf32", None, "tf32", False, False),
    ("cell bfloat16", None, "bfloat16", False, False),
    ("cell bfloat16 compiled", None, "bfloat16", False, True),
    ("pack tf32", "k", "tf32", False, False),
    ("pack bfloat16", "k", "bfloat16", False, False),
    ("pack bfloat16 compiled", "k", "bfloat16", False, True),
]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(step, device, steps, warmup) -> float:
    """Calls per second of step(i)."""
    for i in range(warmup):
        step(i)
    sync(device)
    start = time.perf_counter()
    for i in range(warmup, warmup + steps):
        step(i)
    sync(device)
    return steps / (time.perf_counter() - start)


def plain_eager_loop(device, batch, latent_dim):
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
    torch.manual_seed(0)
    model = VAE(latent_dim).to(device)
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


def dislab_step(device, packed, cfg, pack, precision, channels_last, compile):
    training = {**cfg["training"], "precision": precision}
    settings = TrainSettings.from_config({"model": cfg["model"], "training": training, "options": {}})
    if pack is None:
        return CellTrainer(packed, Cell("betavae", 4.0, 0), settings, device, channels_last=channels_last,
                           compile=compile).train_step
    cells = [Cell("betavae", 4.0, seed) for seed in range(pack)]
    return PackTrainer(packed, cells, settings, device, compile=compile).train_step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation happens here)")
    parser.add_argument("--pack", type=int, default=None, help="cells per pack (default: 2 on a CPU, 10 on a GPU)")
    parser.add_argument("--only", nargs="*", help="run only the variants whose names contain one of these")
    parser.add_argument("--config", default="config/thesis.yaml")
    args = parser.parse_args()

    cfg = yaml.safe_load(open(args.config))
    batch = cfg["model"]["batch_size"]
    cells = sum(len(m["strengths"]) for m in cfg["models"].values()) * len(cfg["seeds"])
    steps_per_cell = cfg["training"]["steps"] or round(cfg["training"]["epochs"] * (DATASET_SIZE // batch))
    rng = np.random.default_rng(0)
    packed = rng.integers(0, 256, size=(DATASET_SIZE, 64, 8), dtype=np.uint8)
    devices = {"cpu": ["cpu"], "cuda": ["cuda"], "all": ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    print(f"thesis grid: {cells} cells x {steps_per_cell:,} steps of batch {batch}")
    print(f"{'device':6} {'variant':40} {'steps/s':>8} {'images/s':>9} {'vs eager':>9} {'grid on 1 device':>17}")

    def report(device, name, cell_steps_per_s, eager):
        hours = cells * steps_per_cell / cell_steps_per_s / 3600
        print(f"{device.type:6} {name:40} {cell_steps_per_s:8.1f} {cell_steps_per_s * batch:9.0f} "
              f"{cell_steps_per_s / eager:8.2f}x {hours:15,.1f} h", flush=True)

    for name in devices[args.device]:
        device = torch.device(name)
        variants = CUDA_VARIANTS if device.type == "cuda" else CPU_VARIANTS
        k = args.pack or (10 if device.type == "cuda" else 2)
        on_device = torch.from_numpy(packed).to(device)
        eager = timed(plain_eager_loop(device, batch, cfg["model"]["latent_dim"]), device, args.steps, args.warmup)
        report(device, "plain eager loop (reference)", eager, eager)
        for label, pack, precision, channels_last, compile in variants:
            if args.only and not any(o in label for o in args.only):
                continue
            size = k if pack == "k" else None
            step = dislab_step(device, on_device, cfg, size, precision, channels_last, compile)
            rate = timed(step, device, args.steps, args.warmup) * (size or 1)
            report(device, label.replace("pack", f"pack of {k}"), rate, eager)


if __name__ == "__main__":
    main()
