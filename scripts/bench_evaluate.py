#!/usr/bin/env python
"""Time the evaluation of one model at the thesis' metric sizes, two ways, in the same run.

    python scripts/bench_evaluate.py [--config config/thesis.yaml] [--baseline-fraction 1.0]

1. dislab: every metric of config/thesis.yaml (β-VAE, FactorVAE, MIG, DCI, SAP, modularity, unsupervised,
   ELBO) with the memoised, batched representation and vectorised metric arithmetic.
2. The thesis' way, for its three metrics: one batch of 64 images at a time through the encoder, in a Python
   loop over examples. ``--baseline-fraction`` runs a fraction of the examples and scales the time up
   linearly (the loop does the same work per example).

Uses the offline renderer's full grid (737,280 images) and a freshly initialised model: metric cost does not
depend on what the model learnt.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from dislab.allocator import keep_freed_memory
from dislab.data.grid import FactorGrid
from dislab.data.loader import DSprites
from dislab.data.synthetic import write_synthetic_hdf5
from dislab.evaluation.evaluate import evaluate_model
from dislab.metrics.mig import mig_from_mutual_info
from dislab.metrics.utils import factor_entropies, histogram_discretize, mutual_info_matrix
from dislab.models.networks import VAE


@torch.no_grad()
def encode_64(model, data, factors):
    return model.encoder(torch.from_numpy(data.images_from_factors(factors)))[0].numpy()


def thesis_beta_vae(model, data, rng, n, batch):
    features = []
    for _ in range(n):
        k = rng.integers(data.num_factors)
        f1, f2 = data.sample_factors(batch, rng), data.sample_factors(batch, rng)
        f2[:, k] = f1[:, k]
        features.append(np.abs(encode_64(model, data, f1) - encode_64(model, data, f2)).mean(axis=0))
    return features


def thesis_factor_vae(model, data, rng, n, batch, n_var):
    codes = np.concatenate([encode_64(model, data, data.sample_factors(batch, rng)) for _ in range(n_var // batch)])
    scale = codes.std(axis=0, ddof=1)
    votes = []
    for _ in range(n):
        k = rng.integers(data.num_factors)
        f = data.sample_factors(batch, rng)
        f[:, k] = f[0, k]
        votes.append((k, np.argmin(encode_64(model, data, f).var(axis=0, ddof=1) / scale**2)))
    return votes


def thesis_mig(model, data, rng, n, batch, bins):
    factors = [data.sample_factors(batch, rng) for _ in range(n // batch)]
    codes = np.concatenate([encode_64(model, data, f) for f in factors])
    factors = np.concatenate(factors)
    return mig_from_mutual_info(
        mutual_info_matrix(histogram_discretize(codes, bins), factors), factor_entropies(factors)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="config/thesis.yaml")
    parser.add_argument("--data", help="an existing dSprites file (default: render the full grid)")
    parser.add_argument("--baseline-fraction", type=float, default=1.0)
    args = parser.parse_args()
    keep_freed_memory()  # as every dislab command does; both ways below run with it
    settings = yaml.safe_load(open(args.config))["metrics"]
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.data or Path(tmp) / "dsprites.hdf5"
        if not args.data:
            start = time.perf_counter()
            write_synthetic_hdf5(path, FactorGrid(), progress=False)
            print(f"rendered the full grid in {time.perf_counter() - start:.1f} s")
        data = DSprites.load(path)
    torch.manual_seed(0)
    model = VAE(10).eval()
    print(f"torch {torch.__version__}, {threads} threads, {len(data):,} images")

    start = time.perf_counter()
    results = evaluate_model(model, data, settings, n_jobs=threads)
    total = time.perf_counter() - start
    print(f"dislab, all metrics at thesis sizes: {total:.1f} s ({results['images_encoded']:,} images encoded)")
    for name, seconds in results["seconds"].items():
        print(f"    {name:14s} {seconds:7.1f} s")

    frac = args.baseline_fraction
    rng = np.random.default_rng(0)
    b, f = settings["beta_vae"], settings["factor_vae"]
    timings = {}
    start = time.perf_counter()
    thesis_beta_vae(model, data, rng, int((b["num_train"] + b["num_eval"]) * frac), b["batch_size"])
    timings["beta_vae"] = (time.perf_counter() - start) / frac
    start = time.perf_counter()
    thesis_factor_vae(
        model,
        data,
        rng,
        int((f["num_train"] + f["num_eval"]) * frac),
        f["batch_size"],
        int(f["num_variance_estimate"] * frac),
    )
    timings["factor_vae"] = (time.perf_counter() - start) / frac
    start = time.perf_counter()
    thesis_mig(model, data, rng, settings["mig"]["num_train"], 64, settings["mig"]["num_bins"])
    timings["mig"] = time.perf_counter() - start
    ours = sum(results["seconds"][k] for k in timings)
    print(f"thesis way (batches of 64 in a Python loop, fraction {frac} scaled to full size), its three metrics:")
    for name, seconds in timings.items():
        print(f"    {name:14s} {seconds:7.1f} s")
    print(
        f"three thesis metrics: thesis way {sum(timings.values()):.1f} s vs dislab {ours:.1f} s "
        f"; every dislab score together: {total:.1f} s"
    )


if __name__ == "__main__":
    main()
