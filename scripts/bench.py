#!/usr/bin/env python
"""Training speed on this device: the plain eager loop against the faster step variants, in the same run.

    python scripts/bench.py [--steps 40] [--config config/thesis.yaml]

For each variant it prints steps/s and images/s of one β-VAE cell (batch 64), the ratio to the plain eager
loop, and the projected wall time of the thesis grid (170 cells x 345,600 steps) run one cell at a time.
Variants: eager (the reference), channels-last memory layout, torch.compile, and both. Packing several cells
into one step is not implemented yet (see the speed issue).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
import yaml

from dislab.models.networks import VAE
from dislab.models.objectives import kl_per_dim


def make_step(model, optimizer):
    def step(x, noise):
        logits, mu, logvar, _ = model(x, noise)
        loss = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x) + kl_per_dim(mu, logvar).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss
    return step


def time_variant(device, channels_last: bool, compiled: bool, steps: int, warmup: int, batch: int) -> float:
    torch.manual_seed(0)
    model = VAE(10).to(device)
    x = (torch.rand(batch, 1, 64, 64, device=device) > 0.9).float()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    step = make_step(model, torch.optim.Adam(model.parameters(), lr=1e-4))
    if compiled:
        step = torch.compile(step)
    noise = torch.randn(batch, 10, device=device)
    for _ in range(warmup):
        step(x, noise)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step(x, noise)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--config", default="config/thesis.yaml")
    args = parser.parse_args()
    cfg = yaml.safe_load(open(args.config))
    batch = cfg["model"]["batch_size"]
    cells = sum(len(m["strengths"]) for m in cfg["models"].values()) * len(cfg["seeds"])
    steps_per_cell = cfg["training"]["steps"] or round(cfg["training"]["epochs"] * 737_280 // batch)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; grid: {cells} cells x "
          f"{steps_per_cell:,} steps of batch {batch}")
    print(f"{'device':6} {'variant':22} {'steps/s':>8} {'images/s':>9} {'vs eager':>9} {'grid, 1 cell at a time':>24}")
    for device in devices:
        eager = None
        for name, cl, comp in [("eager", False, False), ("channels-last", True, False),
                               ("compile", False, True), ("compile+channels-last", True, True)]:
            rate = time_variant(device, cl, comp, args.steps, args.warmup, batch)
            eager = eager or rate
            hours = cells * steps_per_cell / rate / 3600
            print(f"{device.type:6} {name:22} {rate:8.1f} {rate * batch:9.0f} {rate / eager:8.2f}x {hours:20,.0f} h")


if __name__ == "__main__":
    main()
