"""Modularity and explicitness (Ridgeway & Mozer 2018)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import label_binarize

from dislab.metrics.utils import histogram_discretize, mutual_info_matrix, sample_points


def modularity(mi: np.ndarray) -> float:
    """Mean over codes of 1 - (sum_j MI_ij^2 - max_j MI_ij^2) / (max_j MI_ij^2 (K - 1)); dead codes score 0."""
    squared = mi**2
    theta = squared.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (squared.sum(axis=1) - theta) / (theta * (mi.shape[1] - 1))
    return float(np.mean(np.where(theta > 0, 1.0 - delta, 0.0)))


def _macro_auc(y, proba, classes) -> float:
    """Macro ROC-AUC over the classes that occur (and do not fill every row) in ``y``."""
    onehot = label_binarize(y, classes=classes)
    if len(classes) == 2:
        onehot = np.hstack([1 - onehot, onehot])
    usable = (onehot.sum(axis=0) > 0) & (onehot.sum(axis=0) < len(y))
    return float(roc_auc_score(onehot[:, usable], proba[:, usable], average="macro"))


def explicitness(x_train, y_train, x_test, y_test) -> tuple[float, float]:
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    train_scores, test_scores = [], []
    for j in range(y_train.shape[1]):
        classes = np.unique(y_train[:, j])
        if len(classes) < 2:
            continue
        model = LogisticRegression().fit(x_train, y_train[:, j])
        train_scores.append(_macro_auc(y_train[:, j], model.predict_proba(x_train), classes))
        keep = np.isin(y_test[:, j], classes)
        test_scores.append(_macro_auc(y_test[keep, j], model.predict_proba(x_test[keep]), classes))
    return float(np.mean(train_scores)), float(np.mean(test_scores))


def compute_modularity_explicitness(ground_truth, represent, rng, num_train: int, num_test: int, num_bins: int) -> dict:
    x_train, y_train = sample_points(ground_truth, represent, num_train, rng)
    x_test, y_test = sample_points(ground_truth, represent, num_test, rng)
    mi = mutual_info_matrix(histogram_discretize(x_train, num_bins), y_train)
    train, test = explicitness(x_train, y_train, x_test, y_test)
    return {"modularity_score": modularity(mi), "explicitness_score_train": train, "explicitness_score_test": test}
