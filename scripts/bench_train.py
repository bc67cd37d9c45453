#!/usr/bin/env python
"""Print training steps/s and images/s per model on the CPU, and on a GPU when one is present.

    python scripts/bench_train.py [--steps 30] [--batch-size 64] [--precision bfloat16] [--models factorvae]

Times CellTrainer.train_step (the step the workflow runs) on a rendered dSprites subset after warm-up steps, with
the config's precision, channels_last and compile settings and the allocator setting every dislab command uses.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import yaml

from dislab.allocator import keep_freed_memory
from dislab.cells import Cell
from dislab.data.grid import FactorGrid
from dislab.data.loader import DSprites
from dislab.data.render import render_grid
from dislab.models.objectives import REGISTRY
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.settings import TrainSettings


def rendered_subset(sizes=(1, 3, 6, 10, 16, 16)):
    grid = FactorGrid(sizes)
    images = np.concatenate([imgs for _, imgs in render_grid(grid, workers=1, progress=False)])
    classes = grid.all_classes()
    return DSprites(np.packbits(images, axis=-1), classes, grid.all_values(classes))


def bench(data, model, settings, device, steps, warmup, training):
    execution = Execution(torch.device(device), training["channels_last"], training["compile"])
    trainer = CellTrainer(data.packed, Cell(model, 10.0, 0), settings, execution)
    for step in range(warmup):
        trainer.train_step(step)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(warmup, warmup + steps):
        trainer.train_step(step)
    if device == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--config", default="config/thesis.yaml")
    parser.add_argument("--precision", choices=["float32", "tf32", "bfloat16"], help="default: the config's")
    parser.add_argument("--models", nargs="+", choices=sorted(REGISTRY), default=sorted(REGISTRY))
    args = parser.parse_args()
    cfg = yaml.safe_load(open(args.config))
    if args.precision:
        cfg["training"]["precision"] = args.precision
    keep_freed_memory()
    data = rendered_subset()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, batch {args.batch_size}, "
        f"{args.steps} timed steps after {args.warmup} warm-up"
    )
    print(
        f"precision {cfg['training']['precision']}, channels-last {cfg['training']['channels_last']}, "
        f"compile {cfg['training']['compile']}"
    )
    print(f"{'device':8} {'model':12} {'steps/s':>9} {'images/s':>9}")
    for device in devices:
        for model in args.models:
            options = {k: v for k, v in cfg["models"].get(model, {}).items() if k != "strengths"}
            s = TrainSettings.from_config(
                {
                    "model": {**cfg["model"], "batch_size": args.batch_size},
                    "training": cfg["training"],
                    "options": options,
                }
            )
            rate = bench(data, model, s, device, args.steps, args.warmup, cfg["training"])
            print(f"{device:8} {model:12} {rate:9.1f} {rate * args.batch_size:9.0f}")


if __name__ == "__main__":
    main()
