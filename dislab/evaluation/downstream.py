"""Downstream task: gradient-boosted trees on the encoder mean predict each factor, at several train sizes."""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

from dislab.metrics.utils import sample_points

CLASSIFIERS = {
    "gbt": GradientBoostingClassifier,  # the thesis' choice, scikit-learn defaults
    "hist_gbt": HistGradientBoostingClassifier,  # histogram-based: much faster at 10,000 points
}


def _fit_one(classifier: str, x_train, y_train, x_test, y_test, seed: int):
    if len(np.unique(y_train)) < 2:  # e.g. 10 points of one class: no tree can be fitted; predict that class
        model = DummyClassifier(strategy="most_frequent")
    else:
        model = CLASSIFIERS[classifier](random_state=seed)
    model.fit(x_train, y_train)
    return float(model.score(x_train, y_train)), float(model.score(x_test, y_test))


def downstream_task(
    ground_truth, represent, rng, train_sizes, num_test: int, classifier: str, sample_efficiency=None, n_jobs: int = 1
) -> dict:
    """Per train size, in order: a train sample of that size, then a fresh test sample of ``num_test``."""
    results = {}
    for size in train_sizes:
        x_train, y_train = sample_points(ground_truth, represent, size, rng)
        x_test, y_test = sample_points(ground_truth, represent, num_test, rng)
        seed = int(rng.integers(2**31 - 64))
        fits = Parallel(n_jobs=n_jobs)(
            delayed(_fit_one)(classifier, x_train, y_train[:, j], x_test, y_test[:, j], seed + j)
            for j in range(y_train.shape[1])
        )
        test = [f[1] for f in fits]
        results[f"{size}:mean_train_accuracy"] = float(np.mean([f[0] for f in fits]))
        results[f"{size}:mean_test_accuracy"] = float(np.mean(test))
        results[f"{size}:min_test_accuracy"] = float(np.min(test))
        for j, acc in enumerate(test):
            results[f"{size}:test_accuracy_factor_{j}"] = acc
    if sample_efficiency:  # the thesis (after Locatello et al.): accuracy(100) / accuracy(10,000)
        small, large = sample_efficiency
        results["sample_efficiency"] = results[f"{small}:mean_test_accuracy"] / results[f"{large}:mean_test_accuracy"]
        results["sample_efficiency_sizes"] = [small, large]
    return results
