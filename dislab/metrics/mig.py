"""Mutual Information Gap (Chen et al. 2018), disentanglement_lib's discretised estimate."""

from __future__ import annotations

import numpy as np

from dislab.metrics.utils import factor_entropies, histogram_discretize, mutual_info_matrix, sample_points


def mig_from_mutual_info(mi: np.ndarray, entropies: np.ndarray) -> float:
    """Mean over factors of (largest - second largest MI with a code dimension) / the factor's entropy."""
    top = np.sort(mi, axis=0)[::-1]
    second = top[1] if len(top) > 1 else np.zeros_like(top[0])
    varying = entropies > 0  # a factor with one value carries no information to recover
    return float(np.mean((top[0] - second)[varying] / entropies[varying]))


def compute_mig(ground_truth, represent, rng, num_train: int, num_bins: int) -> dict:
    codes, factors = sample_points(ground_truth, represent, num_train, rng)
    mi = mutual_info_matrix(histogram_discretize(codes, num_bins), factors)
    return {"discrete_mig": mig_from_mutual_info(mi, factor_entropies(factors))}
