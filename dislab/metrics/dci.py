"""DCI (Eastwood & Williams 2018), gradient-boosted-trees variant: disentanglement, completeness, informativeness."""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier

from dislab.metrics.utils import sample_points


def _fit_factor(x_train, y_train, x_test, y_test, seed):
    model = GradientBoostingClassifier(random_state=seed)
    model.fit(x_train, y_train)
    return np.abs(model.feature_importances_), model.score(x_train, y_train), model.score(x_test, y_test)


def importance_matrix(x_train, y_train, x_test, y_test, seed: int, n_jobs: int = 1):
    """(d, K) importances of each code dimension for predicting each factor, and per-factor accuracies."""
    fits = Parallel(n_jobs=n_jobs)(
        delayed(_fit_factor)(x_train, y_train[:, j], x_test, y_test[:, j], seed + j) for j in range(y_train.shape[1])
    )
    importances = np.stack([f[0] for f in fits], axis=1)
    return importances, np.array([f[1] for f in fits]), np.array([f[2] for f in fits])


def _weighted_one_minus_entropy(matrix: np.ndarray, base: int) -> float:
    """sum_i rho_i (1 - H_base(P_i)), P_i = row i normalised, rho_i = row i's share of the total."""
    scores = 1.0 - entropy(matrix.T + 1e-11, base=base)
    weights = matrix.sum(axis=1)
    weights = np.full(len(weights), 1.0 / len(weights)) if weights.sum() == 0 else weights / weights.sum()
    return float(np.sum(scores * weights))


def disentanglement(importances: np.ndarray) -> float:
    return _weighted_one_minus_entropy(importances, base=importances.shape[1])


def completeness(importances: np.ndarray) -> float:
    return _weighted_one_minus_entropy(importances.T, base=importances.shape[0])


def compute_dci(ground_truth, represent, rng, num_train: int, num_test: int, n_jobs: int = 1) -> dict:
    x_train, y_train = sample_points(ground_truth, represent, num_train, rng)
    x_test, y_test = sample_points(ground_truth, represent, num_test, rng)
    importances, train_acc, test_acc = importance_matrix(
        x_train, y_train, x_test, y_test, int(rng.integers(2**31 - 64)), n_jobs
    )
    return {
        "disentanglement": disentanglement(importances),
        "completeness": completeness(importances),
        "informativeness_train": float(train_acc.mean()),
        "informativeness_test": float(test_acc.mean()),
    }
