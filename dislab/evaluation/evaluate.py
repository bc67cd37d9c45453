"""All metrics of one trained cell, each from its own seeded random state, into one JSON-ready dict."""

from __future__ import annotations

import logging
import time

import numpy as np

from dislab.evaluation.elbo import elbo_scores
from dislab.evaluation.representation import EncoderMeans
from dislab.metrics.beta_vae import compute_beta_vae
from dislab.metrics.dci import compute_dci
from dislab.metrics.factor_vae import compute_factor_vae
from dislab.metrics.mig import compute_mig
from dislab.metrics.modularity import compute_modularity_explicitness
from dislab.metrics.sap import compute_sap
from dislab.metrics.unsupervised import compute_unsupervised

log = logging.getLogger(__name__)

METRICS = {
    "beta_vae": compute_beta_vae,
    "factor_vae": compute_factor_vae,
    "mig": compute_mig,
    "dci": compute_dci,
    "sap": compute_sap,
    "modularity": compute_modularity_explicitness,
    "unsupervised": compute_unsupervised,
}
PARALLEL = {"dci"}  # metrics whose model fits run in parallel over factors


def evaluate_metrics(data, represent, settings: dict, n_jobs: int = 1) -> dict:
    """Run every metric named in ``settings`` (the config's metrics section) on one representation."""
    results, timings = {}, {}
    for name, compute in METRICS.items():
        rng = np.random.default_rng([settings["random_seed"], list(METRICS).index(name)])
        kwargs = dict(settings[name])
        if name in PARALLEL:
            kwargs["n_jobs"] = n_jobs
        start = time.perf_counter()
        results[name] = compute(data, represent, rng, **kwargs)
        timings[name] = time.perf_counter() - start
        log.info("%s: %s (%.1f s)", name, results[name], timings[name])
    results["seconds"] = timings
    return results


def evaluate_model(model, data, settings: dict, n_jobs: int = 1) -> dict:
    """Every metric, the unsupervised scores and the ELBO of ``model`` (on the CPU, see EncoderMeans)."""
    represent = EncoderMeans(model, data, progress=True)
    results = evaluate_metrics(data, represent, settings, n_jobs)
    rng = np.random.default_rng([settings["random_seed"], len(METRICS)])
    results["elbo"] = elbo_scores(model, data, rng, settings["unsupervised"]["num_train"])
    results["images_encoded"] = represent.encoded
    return results
