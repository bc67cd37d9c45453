"""β-VAE metric (Higgins et al. 2017): a linear classifier predicts which factor a batch of pairs shares."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def _examples(ground_truth, represent, n: int, batch_size: int, rng):
    """``n`` (feature, label) pairs; feature = mean over the batch of |z1 - z2| where each pair shares factor k."""
    num_factors = len(ground_truth.factor_sizes)
    labels = rng.integers(num_factors, size=n)
    first = ground_truth.sample_factors(n * batch_size, rng).reshape(n, batch_size, num_factors)
    second = ground_truth.sample_factors(n * batch_size, rng).reshape(n, batch_size, num_factors)
    rows = np.arange(n)
    second[rows, :, labels] = first[rows, :, labels]
    z1 = represent(first.reshape(-1, num_factors)).reshape(n, batch_size, -1)
    z2 = represent(second.reshape(-1, num_factors)).reshape(n, batch_size, -1)
    return np.abs(z1 - z2).mean(axis=1), labels


def compute_beta_vae(ground_truth, represent, rng, batch_size: int, num_train: int, num_eval: int) -> dict:
    x_train, y_train = _examples(ground_truth, represent, num_train, batch_size, rng)
    x_eval, y_eval = _examples(ground_truth, represent, num_eval, batch_size, rng)
    model = LogisticRegression(random_state=int(rng.integers(2**31)))
    model.fit(x_train, y_train)
    return {"train_accuracy": float(model.score(x_train, y_train)), "eval_accuracy": float(model.score(x_eval, y_eval))}
