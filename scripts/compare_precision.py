#!/usr/bin/env python
"""Does a faster precision change the science? Train the same cells in float32 and in another precision and
compare the loss curves' gap with the seed-to-seed spread of float32 itself.

    python scripts/compare_precision.py --data resources/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5
    python scripts/compare_precision.py --grid 3 6 10 32 32 --steps 1500 --seeds 0 1 2 --other bfloat16
    python scripts/compare_precision.py --model factorvae --strength 25 --columns loss tc disc_loss

For each logged column (``--columns``, of train_log.csv; default the loss) and each logged step it prints the mean
over the seeds for both precisions, the gap of the means, and the standard deviation across seeds (float32); the
column's last line gives the largest |gap| / spread. A ratio well under 1 means the precision changes the curve by
less than changing the seed does. ``--device cuda`` on a GPU machine.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dislab.cells import Cell
from dislab.data.grid import FactorGrid
from dislab.data.loader import DSprites
from dislab.data.synthetic import write_synthetic_hdf5
from dislab.training.execution import Execution
from dislab.training.settings import TrainSettings
from dislab.training.step import RECORDED
from dislab.training.trainer import train

REPO = Path(__file__).resolve().parents[1]


def train_curves(data, cell, settings, device, columns):
    """The logged steps and, per column, its values at those steps."""
    outdir = Path(tempfile.mkdtemp())
    train(data.packed, [cell], settings, [outdir], Execution(device, channels_last=True), False)
    rows = pd.read_csv(outdir / "train_log.csv")
    missing = [c for c in columns if rows[c].isna().all()]
    if missing:
        raise SystemExit(f"{cell.model} logs no {missing}; its columns: {list(rows.dropna(axis=1, how='all'))}")
    return rows["step"].to_numpy(), {c: rows[c].to_numpy() for c in columns}


def compare(column, steps, ref, other, name):
    """Print one column's table: ref and other are (seeds, logged steps)."""
    spread = ref.std(axis=0, ddof=1)
    gap = other.mean(axis=0) - ref.mean(axis=0)
    print(f"\n{column}")
    print(f"{'step':>6} {'float32':>10} {name:>10} {'gap':>9} {'seed sd':>9} {'|gap|/sd':>9}")
    for i, step in enumerate(steps):
        print(
            f"{step:6d} {ref[:, i].mean():10.3f} {other[:, i].mean():10.3f} {gap[i]:9.3f} {spread[i]:9.3f} "
            f"{abs(gap[i]) / spread[i]:9.2f}"
        )
    late = slice(len(steps) // 2, None)  # the first steps fall fast and say little
    print(
        f"{column}: largest |gap| / seed sd over the second half of training: "
        f"{np.max(np.abs(gap[late]) / spread[late]):.2f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a dSprites HDF5 file (default: render --grid)")
    parser.add_argument(
        "--grid",
        type=int,
        nargs=5,
        default=[3, 6, 10, 32, 32],
        metavar=("SHAPE", "SCALE", "ORIENTATION", "POSX", "POSY"),
    )
    parser.add_argument("--model", default="betavae")
    parser.add_argument("--strength", type=float, default=4.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--other", default="bfloat16", choices=["tf32", "bfloat16"])
    parser.add_argument(
        "--columns",
        nargs="+",
        default=["loss"],
        choices=RECORDED,
        help="of train_log.csv (a model logs only its own: β-VAE has no tc or disc_loss)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--config", default=str(REPO / "config" / "thesis.yaml"))
    args = parser.parse_args()

    cfg = yaml.safe_load(open(args.config))
    if args.data:
        path = args.data
    else:
        path = Path(tempfile.mkdtemp()) / "dsprites.hdf5"
        write_synthetic_hdf5(path, FactorGrid(tuple([1] + args.grid)), progress=False)
    data = DSprites.load(path)
    device = Execution.build(args.device).device
    options = {k: v for k, v in cfg["models"].get(args.model, {}).items() if k != "strengths"}
    curves = {}
    for precision in ("float32", args.other):
        training = {
            **cfg["training"],
            "steps": args.steps,
            "log_every": args.log_every,
            "checkpoint_every": args.steps + 1,
            "precision": precision,
        }
        settings = TrainSettings.from_config({"model": cfg["model"], "training": training, "options": options})
        runs = [
            train_curves(data, Cell(args.model, args.strength, seed), settings, device, args.columns)
            for seed in args.seeds
        ]
        steps = runs[0][0]
        curves[precision] = {c: np.stack([values[c] for _, values in runs]) for c in args.columns}
        print(f"trained {len(args.seeds)} seeds in {precision}", flush=True)

    print(f"{args.model} strength {args.strength:g}, {len(data)} images, device {device}, seeds {args.seeds}")
    for column in args.columns:
        compare(column, steps, curves["float32"][column], curves[args.other][column], args.other)


if __name__ == "__main__":
    main()
