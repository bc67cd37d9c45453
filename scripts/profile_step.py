#!/usr/bin/env python
"""Where the training step's time goes: PyTorch's profiler over real CellTrainer steps.

    python scripts/profile_step.py [--device cpu|cuda] [--precision bfloat16] [--channels-last] [--model betavae]

Runs ``--steps`` steps of one cell of the thesis configuration (random bit-packed images of the full dataset's
size) after a warm-up, and prints the operators that take the most time and the share of the convolutions
(forward and backward). Their time alone caps the steps/s that any change outside the convolution kernels can
reach. The profiler adds a little overhead; take rates from scripts/bench.py.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import yaml
from torch.profiler import ProfilerActivity, profile

from dislab.allocator import keep_freed_memory
from dislab.cells import Cell
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.settings import TrainSettings

DATASET_SIZE = 737_280
CONVOLUTION_OPS = (
    "aten::_convolution",
    "aten::convolution_backward",
    "aten::mkldnn_convolution",
    "aten::cudnn_convolution",
    "aten::cudnn_convolution_transpose",
)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=["float32", "tf32", "bfloat16"], default="float32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--model", default="betavae")
    parser.add_argument("--strength", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--config", default="config/thesis.yaml")
    args = parser.parse_args()
    keep_freed_memory()
    cfg = yaml.safe_load(open(args.config))
    device = torch.device(args.device)
    packed = torch.from_numpy(np.random.default_rng(0).integers(0, 256, size=(DATASET_SIZE, 64, 8), dtype=np.uint8)).to(
        device
    )
    options = {k: v for k, v in cfg["models"].get(args.model, {}).items() if k != "strengths"}
    settings = TrainSettings.from_config(
        {"model": cfg["model"], "options": options, "training": {**cfg["training"], "precision": args.precision}}
    )
    execution = Execution(device, channels_last=args.channels_last)
    trainer = CellTrainer(packed, Cell(args.model, args.strength, 0), settings, execution)
    for step in range(10):
        trainer.train_step(step)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for step in range(args.steps):
            trainer.train_step(step)
        if device.type == "cuda":
            torch.cuda.synchronize()
    sort_key = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = prof.key_averages()
    print(events.table(sort_by=sort_key, row_limit=15))

    def self_ms(event):
        return getattr(event, sort_key) / 1e3 / args.steps  # microseconds over all steps -> ms a step

    total = sum(self_ms(e) for e in events)
    convolutions = sum(self_ms(e) for e in events if e.key in CONVOLUTION_OPS)
    print(
        f"{args.model}, {args.precision}, {'channels-last' if args.channels_last else 'NCHW'} on {device}: "
        f"{total:.1f} ms a step under the profiler, of which the convolutions take {convolutions:.1f} ms "
        f"({convolutions / total:.0%}): at most {1e3 / convolutions:.1f} steps/s with everything else free"
    )


if __name__ == "__main__":
    main()
