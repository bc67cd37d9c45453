#!/usr/bin/env python
"""What the config's grid costs on this machine's GPU, before the first submission: each way of training (precision,
pack size, layout) timed on dislab's real trainer, one after the other, a row printed as each finishes, then the
projected GPU-hours of a cell and of the whole grid and the ``resources.train.runtime_minutes`` to ask for.

    python scripts/cost.py                                   # config/thesis.yaml on cuda
    python scripts/cost.py --packs 1 5 10 --precisions float32 tf32 bfloat16 --compile
    python scripts/cost.py --device cpu --config config/tiny.yaml --steps 2 --warmup 1 --images 4096   # a smoke test

Run it on one GPU node of the cluster the grid will run on (README: the cluster section), with the Python that
trains there. pack_size, precision, channels_last and compile are params of the training rule: changing them after
the first submission retrains every cell, so choose them from this table first. float32 is the thesis' arithmetic;
tf32 and bfloat16 round differently (docs/precision.md says how much that moves the results).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's dislab, installed or not

from dislab.cells import Cell  # noqa: E402
from dislab.evaluation.fidelity.setup import configured_images  # noqa: E402
from dislab.training.cell import CellTrainer  # noqa: E402
from dislab.training.execution import Execution  # noqa: E402
from dislab.training.pack import PackTrainer  # noqa: E402
from dislab.training.settings import TrainSettings  # noqa: E402

MARGIN = 1.5  # the runtime asked for: the measured time of a job, times this, plus START_MINUTES
START_MINUTES = 10  # reading the data, building the model, the first checkpoint's wait


def runtime_minutes(job_hours: float) -> int:
    """What to ask the scheduler for a job measured to take ``job_hours``: with a margin, in half hours."""
    return int(math.ceil((job_hours * 60 * MARGIN + START_MINUTES) / 30) * 30)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def trainer_of(cfg: dict, packed, device, precision: str, pack: int, channels_last: bool, compile: bool):
    settings = TrainSettings.from_config(
        {"model": cfg["model"], "training": {**cfg["training"], "precision": precision}, "options": {}}
    )
    if pack == 1:
        execution = Execution(device, channels_last, compile)
        return CellTrainer(packed, Cell("betavae", 4.0, 0), settings, execution), settings
    execution = Execution(device, False, compile)
    return PackTrainer(packed, [Cell("betavae", 4.0, s) for s in range(pack)], settings, execution), settings


def cell_steps_per_s(trainer, device, pack: int, warmup: int, steps: int) -> float:
    for i in range(warmup):
        trainer.train_step(i)
    sync(device)
    start = time.perf_counter()
    for i in range(warmup, warmup + steps):
        trainer.train_step(i)
    sync(device)
    return pack * steps / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--config", default="config/thesis.yaml")
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 10], help="pack sizes to time (1: one cell a job)")
    parser.add_argument("--precisions", nargs="+", default=["float32", "tf32", "bfloat16"])
    parser.add_argument("--compile", action="store_true", help="also time the compiled step (its warm-up compiles)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--images", type=int, default=None, help="random images on the device (default: the config's)")
    args = parser.parse_args()

    cfg = yaml.safe_load(Path(args.config).read_text())
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"cost: --device cuda, but torch {torch.__version__} sees no CUDA GPU here", file=sys.stderr)
        return 2
    images = configured_images(cfg)
    settings = TrainSettings.from_config({"model": cfg["model"], "training": cfg["training"], "options": {}})
    steps_per_cell = settings.total_steps(images // cfg["model"]["batch_size"])
    cells = sum(len(m["strengths"]) for m in cfg["models"].values()) * len(cfg["seeds"])
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"cost: {name}, torch {torch.__version__}; {args.config}: {cells} cells of {steps_per_cell:,} steps", flush=True
    )
    packed = np.random.default_rng(0).integers(0, 256, size=(args.images or images, 64, 8), dtype=np.uint8)
    packed = torch.from_numpy(packed).to(device)
    columns = ("cell-steps/s", 12), ("GPU-h a cell", 13), ("GPU-h grid", 11), ("a job", 8), ("runtime_minutes", 16)
    header = f"{'variant':40} " + " ".join(f"{name:>{width}}" for name, width in columns)
    print(header, flush=True)
    rows = []
    variants = [
        (precision, pack, compile)
        for compile in ([False, True] if args.compile else [False])
        for precision in args.precisions
        for pack in args.packs
    ]
    for precision, pack, compile in variants:
        channels_last = bool(cfg["training"]["channels_last"]) and pack == 1
        label = (
            f"{'cell' if pack == 1 else f'pack of {pack}'} {precision}"
            + (" channels-last" if channels_last else "")
            + (" compiled" if compile else "")
        )
        try:
            trainer, _ = trainer_of(cfg, packed, device, precision, pack, channels_last, compile)
            rate = cell_steps_per_s(trainer, device, pack, args.warmup, args.steps)
        except Exception as exc:  # one variant that fails (memory, a kernel) does not hide the others
            print(f"{label:40} failed: {str(exc).splitlines()[0][:120]}", flush=True)
            continue
        finally:
            trainer = None
            if device.type == "cuda":
                torch.cuda.empty_cache()
        cell_hours = steps_per_cell / rate / 3600
        job_hours = cell_hours * pack
        rows.append((label, rate, cell_hours, job_hours, pack, precision))
        print(
            f"{label:40} {rate:12.1f} {cell_hours:13.2f} {cells * cell_hours:11,.0f} {job_hours:7.1f}h "
            f"{runtime_minutes(job_hours):16d}",
            flush=True,
        )
    if not rows:
        print("cost: no variant ran", file=sys.stderr)
        return 1
    print(
        f"\nA cell's GPU-hours are the job's divided by its pack size; a job asks for runtime_minutes (the measured "
        f"time x {MARGIN} + {START_MINUTES} min, in half hours). The config asks for "
        f"{cfg['resources']['train']['runtime_minutes']} minutes a job.",
        flush=True,
    )
    for precision in dict.fromkeys(r[5] for r in rows):
        best = max((r for r in rows if r[5] == precision), key=lambda r: r[1])
        print(
            f"fastest in {precision}: {best[0]}: set training.pack_size: {best[4]}, training.precision: {precision}, "
            f"resources.train.runtime_minutes: {runtime_minutes(best[3])} "
            f"({cells * best[2]:,.0f} GPU-hours for the grid)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
