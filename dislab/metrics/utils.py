"""Shared pieces: point sampling, the 20-bin histogram discretiser and discrete mutual information."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mutual_info_score


def sample_points(ground_truth, represent, n: int, rng):
    """``n`` points with uniform factors: (codes (n, d), factors (n, K))."""
    factors = ground_truth.sample_factors(n, rng)
    return represent(factors), factors


def histogram_discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Per dimension, equal-width bins over its sampled range; values map to 1..num_bins (the max to num_bins)."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, i], bins=num_bins)[:-1]
        out[:, i] = np.digitize(codes[:, i], edges)
    return out


def mutual_info_matrix(binned_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """(d, K) plug-in mutual information (nats) between each binned code dimension and each factor."""
    return np.array([[mutual_info_score(f, c) for f in factors.T] for c in binned_codes.T])


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    return np.array([mutual_info_score(f, f) for f in factors.T])
