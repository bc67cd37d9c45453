"""Unsupervised scores of the codes: Gaussian total and Wasserstein correlation, mutual information."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from sklearn.metrics import mutual_info_score

from dislab.metrics.utils import histogram_discretize, sample_points


def gaussian_total_correlation(cov: np.ndarray) -> float:
    """KL(N(0, S) || N(0, diag S)) = (sum_i log S_ii - log det S) / 2."""
    return float(0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1]))


def gaussian_wasserstein_correlation(cov: np.ndarray) -> float:
    """Squared 2-Wasserstein distance between N(0, S) and N(0, diag S)."""
    root = scipy.linalg.sqrtm(np.diag(np.diag(cov)) @ cov)
    return float(2 * np.trace(cov) - 2 * np.real(np.trace(root)))


def mutual_info_score_of_codes(binned: np.ndarray) -> float:
    """Mean plug-in MI over ordered pairs of distinct code dimensions."""
    d = binned.shape[1]
    mi = np.array(
        [[mutual_info_score(binned[:, i], binned[:, j]) if i != j else 0.0 for j in range(d)] for i in range(d)]
    )
    return float(mi.sum() / (d * (d - 1)))


def compute_unsupervised(ground_truth, represent, rng, num_train: int, num_bins: int) -> dict:
    codes, _ = sample_points(ground_truth, represent, num_train, rng)
    cov = np.cov(codes, rowvar=False)
    varying = np.diag(cov) > 1e-12  # a constant dimension is independent of the rest: it adds no correlation
    cov = cov[np.ix_(varying, varying)]
    wasserstein = gaussian_wasserstein_correlation(cov)
    return {
        "gaussian_total_correlation": gaussian_total_correlation(cov),
        "gaussian_wasserstein_correlation": wasserstein,
        "gaussian_wasserstein_correlation_norm": wasserstein / float(np.trace(cov)),
        "mutual_info_score": mutual_info_score_of_codes(histogram_discretize(codes, num_bins)),
    }
