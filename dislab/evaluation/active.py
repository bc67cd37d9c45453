"""Which latents are active: the one rule the tables, the fidelity page and the traversal figures share (torch-free:
the Snakefile imports the tables module on every start-up)."""

from __future__ import annotations

import numpy as np


def kl_order(kl) -> np.ndarray:
    """Latents from most to least informative (largest mean KL first)."""
    return np.argsort(-np.asarray(kl), kind="stable")


def active_latents(kl, threshold: float) -> np.ndarray:
    """Latents whose mean KL exceeds ``threshold`` nats (figures.active_kl_threshold), most informative first."""
    kl = np.asarray(kl)
    order = kl_order(kl)
    return order[kl[order] > threshold]
