"""Every metric on crafted representations whose answer is known."""

import numpy as np
import pytest

from dislab.data.grid import FactorSpace
from dislab.metrics import dci, utils
from dislab.metrics import modularity as mod
from dislab.metrics.beta_vae import compute_beta_vae
from dislab.metrics.dci import compute_dci
from dislab.metrics.factor_vae import compute_factor_vae
from dislab.metrics.mig import compute_mig, mig_from_mutual_info
from dislab.metrics.modularity import compute_modularity_explicitness
from dislab.metrics.sap import compute_sap
from dislab.metrics.unsupervised import (
    compute_unsupervised,
    gaussian_total_correlation,
    gaussian_wasserstein_correlation,
)

DSPRITES = FactorSpace((3, 6, 40, 32, 32))
SMALL = FactorSpace((3, 4, 6, 5, 5))  # fewer classes: keeps the tree- and SVM-based metrics fast
ROTATION = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))[0]


def identity(space):
    sizes = np.array(space.factor_sizes)
    return lambda f: (f + 0.5) / sizes - 0.5


def rotated(space):
    ident = identity(space)
    return lambda f: (ident(f) / np.sqrt(1 / 12)) @ ROTATION


def noise(f):
    return np.random.default_rng(len(f) + int(f.sum())).normal(size=(len(f), 5))


def shared(space):
    """Dimension 0 carries two factors (shape and scale); the rest one each; one dead dimension."""
    ident = identity(space)

    def rep(f):
        z = ident(f)
        return np.column_stack([z[:, 0] * 10 + z[:, 1], z[:, 2], z[:, 3], z[:, 4], np.zeros(len(f))])

    return rep


def rng():
    return np.random.default_rng(0)


BETA = dict(batch_size=64, num_train=600, num_eval=300)
FACTOR = dict(batch_size=64, num_train=600, num_eval=300, num_variance_estimate=3000, prune_threshold=0.05)


def test_beta_vae_metric():
    assert compute_beta_vae(DSPRITES, identity(DSPRITES), rng(), **BETA)["eval_accuracy"] > 0.95
    assert abs(compute_beta_vae(DSPRITES, noise, rng(), **BETA)["eval_accuracy"] - 0.2) < 0.07  # chance: 1/5
    # a pair shares factor k: |z1 - z2| is 0 in k's dimension, so even a rotation stays fairly easy
    assert compute_beta_vae(DSPRITES, shared(DSPRITES), rng(), **BETA)["eval_accuracy"] > 0.9


def test_factor_vae_metric():
    assert compute_factor_vae(DSPRITES, identity(DSPRITES), rng(), **FACTOR)["eval_accuracy"] > 0.98
    assert compute_factor_vae(DSPRITES, rotated(DSPRITES), rng(), **FACTOR)["eval_accuracy"] < 0.9
    assert compute_factor_vae(DSPRITES, noise, rng(), **FACTOR)["eval_accuracy"] < 0.35
    # two factors in one dimension: one of them is lost to the majority vote
    result = compute_factor_vae(DSPRITES, shared(DSPRITES), rng(), **FACTOR)
    assert 0.7 < result["eval_accuracy"] < 0.9 and result["num_active_dims"] == 4


def test_factor_vae_metric_with_no_active_dimension_is_zero():
    result = compute_factor_vae(DSPRITES, lambda f: np.zeros((len(f), 5)), rng(), **FACTOR)
    assert result["eval_accuracy"] == 0.0


def test_mig():
    perfect = compute_mig(DSPRITES, identity(DSPRITES), rng(), num_train=10000, num_bins=20)["discrete_mig"]
    assert 0.87 < perfect < 0.92  # disentanglement_lib measures 0.8954: 40 or 32 values squeezed into 20 bins
    assert compute_mig(DSPRITES, rotated(DSPRITES), rng(), 10000, 20)["discrete_mig"] < 0.4
    assert compute_mig(DSPRITES, noise, rng(), 10000, 20)["discrete_mig"] < 0.02
    both = compute_mig(DSPRITES, lambda f: np.hstack([identity(DSPRITES)(f)] * 2), rng(), 10000, 20)
    assert both["discrete_mig"] < 0.02  # duplicated codes: top1 == top2


def test_mig_from_mutual_info_by_hand():
    mi = np.array([[1.0, 0.1], [0.2, 0.5], [0.0, 0.4]])
    assert np.isclose(mig_from_mutual_info(mi, np.array([2.0, 1.0])), np.mean([(1.0 - 0.2) / 2, (0.5 - 0.4) / 1]))


def test_dci_on_importance_matrices():
    assert np.isclose(dci.disentanglement(np.eye(5)), 1) and np.isclose(dci.completeness(np.eye(5)), 1)
    redundant = np.vstack([np.eye(5), np.eye(5)])
    assert np.isclose(dci.completeness(redundant), 1 - np.log(2) / np.log(10))
    one_code_two_factors = np.hstack([np.eye(5), np.eye(5)])
    assert np.isclose(dci.disentanglement(one_code_two_factors), 1 - np.log(2) / np.log(10))
    assert np.isclose(dci.disentanglement(np.zeros((5, 5))), 0, atol=1e-7)


def test_dci_end_to_end():
    kw = dict(num_train=400, num_test=200)
    good = compute_dci(SMALL, identity(SMALL), rng(), **kw)
    assert good["disentanglement"] > 0.9 and good["completeness"] > 0.9 and good["informativeness_test"] > 0.95
    bad = compute_dci(SMALL, rotated(SMALL), rng(), **kw)
    assert bad["disentanglement"] < 0.6 and bad["completeness"] < 0.6
    assert compute_dci(SMALL, noise, rng(), **kw)["informativeness_test"] < 0.4


def test_sap():
    kw = dict(num_train=1000, num_test=500)
    good = compute_sap(SMALL, identity(SMALL), rng(), **kw)["sap_score"]
    assert good > compute_sap(SMALL, rotated(SMALL), rng(), **kw)["sap_score"]
    assert compute_sap(SMALL, noise, rng(), **kw)["sap_score"] < 0.05
    duplicated = compute_sap(SMALL, lambda f: np.hstack([identity(SMALL)(f)] * 2), rng(), **kw)["sap_score"]
    assert duplicated < 0.05


def test_modularity_on_mutual_info_matrices():
    assert np.isclose(mod.modularity(np.eye(5)), 1)
    assert np.isclose(mod.modularity(np.array([[1, 0], [0, 1], [0, 0]])), 2 / 3)  # a dead code scores 0
    assert np.isclose(mod.modularity(np.vstack([np.eye(5), np.eye(5)])), 1)  # redundant codes stay modular
    assert np.isclose(mod.modularity(np.hstack([np.eye(5), np.eye(5)])), 1 - 1 / 9)  # one code, two factors


def test_modularity_and_explicitness_end_to_end():
    kw = dict(num_train=3000, num_test=1000, num_bins=20)
    good = compute_modularity_explicitness(DSPRITES, identity(DSPRITES), rng(), **kw)
    rot = compute_modularity_explicitness(DSPRITES, rotated(DSPRITES), rng(), **kw)
    assert good["modularity_score"] > 0.95 and rot["modularity_score"] < good["modularity_score"] - 0.1
    assert good["explicitness_score_test"] > 0.95
    assert compute_modularity_explicitness(DSPRITES, noise, rng(), **kw)["explicitness_score_test"] < 0.6


def test_unsupervised_scores():
    assert abs(gaussian_total_correlation(np.eye(5))) < 1e-12
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    assert np.isclose(gaussian_total_correlation(cov), -0.5 * np.log(1 - 0.81))
    # W2^2 between N(0, S) and N(0, I): tr(S + I - 2 (S)^(1/2))
    eig = np.linalg.eigvalsh(cov)
    assert np.isclose(gaussian_wasserstein_correlation(cov), np.sum(eig + 1 - 2 * np.sqrt(eig)))
    ind = compute_unsupervised(DSPRITES, identity(DSPRITES), rng(), num_train=5000, num_bins=20)
    mixed = compute_unsupervised(
        DSPRITES,
        lambda f: (
            identity(DSPRITES)(f)
            @ np.array([[1, 0.8, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]])
        ),
        rng(),
        5000,
        20,
    )
    assert ind["gaussian_total_correlation"] < 0.01 and mixed["gaussian_total_correlation"] > 0.1
    assert ind["mutual_info_score"] < mixed["mutual_info_score"]
    dead = compute_unsupervised(DSPRITES, shared(DSPRITES), rng(), num_train=2000, num_bins=20)
    assert np.isfinite(dead["gaussian_total_correlation"])


def test_histogram_discretizer_and_entropy():
    codes = np.array([[0.1], [0.2], [0.3], [0.4], [0.5], [0.6]])
    assert utils.histogram_discretize(codes, 3)[:, 0].tolist() == [1, 1, 2, 2, 3, 3]
    assert np.isclose(utils.factor_entropies(np.array([[0], [1], [2]]))[0], np.log(3))


@pytest.mark.parametrize(
    "compute, kwargs",
    [
        (compute_beta_vae, BETA),
        (compute_factor_vae, FACTOR),
        (compute_mig, dict(num_train=2000, num_bins=20)),
        (compute_dci, dict(num_train=200, num_test=100)),
        (compute_sap, dict(num_train=300, num_test=100)),
        (compute_modularity_explicitness, dict(num_train=500, num_test=200, num_bins=20)),
        (compute_unsupervised, dict(num_train=500, num_bins=20)),
    ],
)
def test_same_inputs_same_number(compute, kwargs):
    rep = rotated(SMALL)
    assert compute(SMALL, rep, rng(), **kwargs) == compute(SMALL, rep, rng(), **kwargs)
    assert compute(SMALL, rep, rng(), **kwargs) != compute(SMALL, rep, np.random.default_rng(1), **kwargs)
