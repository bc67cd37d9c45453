"""FactorVAE metric (Kim & Mnih 2018): the least-varying standardised dimension votes for the fixed factor."""

from __future__ import annotations

import numpy as np


def _votes(ground_truth, represent, n: int, batch_size: int, global_var, active, rng) -> np.ndarray:
    """(K, d) vote counts: for each of ``n`` batches with one factor fixed, argmin_j Var_batch(z_j) / Var(z_j)."""
    sizes = ground_truth.factor_sizes
    labels = rng.integers(len(sizes), size=n)
    factors = ground_truth.sample_factors(n * batch_size, rng).reshape(n, batch_size, len(sizes))
    rows = np.arange(n)
    factors[rows, :, labels] = factors[rows, :1, labels]
    codes = represent(factors.reshape(-1, len(sizes))).reshape(n, batch_size, -1)
    local_var = codes.var(axis=1, ddof=1)
    ratio = np.where(active, local_var / np.where(active, global_var, 1.0), np.inf)
    dims = np.argmin(ratio, axis=1)
    votes = np.zeros((len(sizes), codes.shape[2]), dtype=np.int64)
    np.add.at(votes, (labels, dims), 1)
    return votes


def compute_factor_vae(
    ground_truth,
    represent,
    rng,
    batch_size: int,
    num_train: int,
    num_eval: int,
    num_variance_estimate: int,
    prune_threshold: float,
) -> dict:
    codes = represent(ground_truth.sample_factors(num_variance_estimate, rng))
    global_var = codes.var(axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train = _votes(ground_truth, represent, num_train, batch_size, global_var, active, rng)
    classifier = np.argmax(train, axis=0)  # each code dimension predicts its majority factor (ties: lowest)
    evaluation = _votes(ground_truth, represent, num_eval, batch_size, global_var, active, rng)
    dims = np.arange(train.shape[1])
    return {
        "train_accuracy": float(train[classifier, dims].sum() / train.sum()),
        "eval_accuracy": float(evaluation[classifier, dims].sum() / evaluation.sum()),
        "num_active_dims": int(active.sum()),
    }
