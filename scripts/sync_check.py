#!/usr/bin/env python
"""A training step on a GPU makes no host synchronisation: run a few steps of a cell and of a pack under
``torch.cuda.set_sync_debug_mode("error")``, which raises at the first operation that waits for the GPU.

    python scripts/sync_check.py            # needs a CUDA GPU; prints one line per case, exits 1 on a sync

The thesis' four models and the annealed β-VAE (whose capacity schedule reads the step), each alone and in a pack.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from dislab.cells import Cell
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.pack import PackTrainer
from dislab.training.settings import TrainSettings


def main() -> int:
    if not torch.cuda.is_available():
        print("sync_check: no CUDA GPU here", file=sys.stderr)
        return 2
    cfg = yaml.safe_load(open(Path(__file__).resolve().parents[1] / "config" / "thesis.yaml"))
    device = torch.device("cuda")
    packed = np.random.default_rng(0).integers(0, 256, (737_280, 64, 8), dtype=np.uint8)
    failed = 0
    for model, strength in (
        ("betavae", 4.0),
        ("factorvae", 10.0),
        ("btcvae", 6.0),
        ("dipvae", 10.0),
        ("annealedvae", 10.0),
    ):
        options = {
            "annealedvae": {"capacity_max": 25.0, "capacity_steps": 100},
            "btcvae": {"sampling": "mws", "strength_as": "lambda"},
            "dipvae": {"variant": "ii"},
        }.get(model, {})
        settings = TrainSettings.from_config(
            {"model": cfg["model"], "options": options, "training": {**cfg["training"], "steps": 100}}
        )
        for kind in ("cell", "pack of 3"):
            if kind == "cell":
                execution = Execution(device, channels_last=True)
                trainer = CellTrainer(packed, Cell(model, strength, 0), settings, execution)
            else:
                execution = Execution(device)
                trainer = PackTrainer(packed, [Cell(model, strength, s) for s in range(3)], settings, execution)
            for step in range(3):  # warm-up: first-use allocations and lazy inits may synchronise
                trainer.train_step(step)
            torch.cuda.synchronize()
            torch.cuda.set_sync_debug_mode("error")
            try:
                for step in range(3, 13):
                    trainer.train_step(step)
                verdict = "no host synchronisation in 10 steps (expected)"
            except RuntimeError as exc:
                failed += 1
                verdict = f"SYNCHRONISES: {str(exc).splitlines()[0]}"
            finally:
                torch.cuda.set_sync_debug_mode(0)
            print(f"sync_check {model} {kind}: {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
