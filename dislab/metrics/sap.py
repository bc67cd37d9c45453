"""SAP score (Kumar et al. 2018), discrete-factor variant: the gap between the two most predictive code dimensions."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from dislab.metrics.utils import sample_points


def score_matrix(x_train, y_train, x_test, y_test) -> np.ndarray:
    """(d, K) test accuracy of a 1-D linear SVM from code dimension i to factor j."""
    scores = np.zeros((x_train.shape[1], y_train.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in range(x_train.shape[1]):
            for j in range(y_train.shape[1]):
                if len(np.unique(y_train[:, j])) < 2:
                    scores[i, j] = np.mean(y_test[:, j] == y_train[0, j])
                    continue
                svm = LinearSVC(C=0.01, class_weight="balanced")
                svm.fit(x_train[:, i : i + 1], y_train[:, j])
                scores[i, j] = svm.score(x_test[:, i : i + 1], y_test[:, j])
    return scores


def sap_from_scores(scores: np.ndarray) -> float:
    top = np.sort(scores, axis=0)[::-1]
    return float(np.mean(top[0] - top[1]))


def compute_sap(ground_truth, represent, rng, num_train: int, num_test: int) -> dict:
    x_train, y_train = sample_points(ground_truth, represent, num_train, rng)
    x_test, y_test = sample_points(ground_truth, represent, num_test, rng)
    return {"sap_score": sap_from_scores(score_matrix(x_train, y_train, x_test, y_test))}
