import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from dislab.models import objectives as obj
from dislab.models.networks import VAE, Discriminator, count_parameters


def test_vae_has_the_thesis_parameter_count():
    assert count_parameters(VAE(10)) == 502_005


def test_discriminator_matches_table_5_5():
    disc = Discriminator(10, 1000, 5, 0.2)
    linears = [m for m in disc.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [1000] * 5 + [2]
    assert count_parameters(disc) == 10 * 1000 + 1000 + 4 * (1000 * 1000 + 1000) + 1000 * 2 + 2


def test_encoder_outputs_mean_and_log_variance_without_activation():
    model = VAE(10)
    mu, logvar = model.encoder(torch.rand(4, 1, 64, 64))
    assert mu.shape == logvar.shape == (4, 10)
    logits, mu2, _, z = model(torch.rand(4, 1, 64, 64), torch.zeros(4, 10))
    assert logits.shape == (4, 1, 64, 64)
    assert (logits < 0).any() and (mu < 0).any()  # no sigmoid/ReLU on the outputs


def test_closed_form_kl_matches_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(3, 4, generator=gen)
    logvar = torch.randn(3, 4, generator=gen) * 0.5
    eps = torch.randn(200_000, 3, 4, generator=gen, dtype=torch.float64)
    z = mu.double() + torch.exp(0.5 * logvar.double()) * eps
    log_q = obj.gaussian_log_density(z, mu.double(), logvar.double())
    log_p = obj.gaussian_log_density(z, torch.zeros(1), torch.zeros(1))
    monte_carlo = (log_q - log_p).mean(dim=(0, 1))
    assert torch.allclose(obj.kl_per_dim(mu, logvar).double(), monte_carlo, atol=0.01)


def test_reconstruction_is_summed_over_pixels_and_averaged_over_the_batch():
    x = torch.tensor([[[[1.0, 0.0]]], [[[1.0, 1.0]]]])
    logits = torch.zeros_like(x)
    assert math.isclose(obj.reconstruction_loss(logits, x).item(), 2 * math.log(2), rel_tol=1e-6)


def _brute_force_tc(z, mu, logvar, n_data, stratified):
    b, d = z.shape
    logq = np.zeros((b, b, d))
    for i, j, k in itertools.product(range(b), range(b), range(d)):
        var = math.exp(logvar[j, k])
        logq[i, j, k] = -0.5 * math.log(2 * math.pi * var) - (z[i, k] - mu[j, k]) ** 2 / (2 * var)
    if stratified:
        m = b - 1
        w = np.full((b, b), 1 / m)
        for i in range(b):
            w[i, i] = 1 / n_data
            w[i, (i + 1) % b] = (n_data - m) / (n_data * m)
    else:
        w = np.full((b, b), 1 / (n_data * b))
    tcs = []
    for i in range(b):
        joint = logsumexp([logq[i, j].sum() + math.log(w[i, j]) for j in range(b)])
        marginals = sum(logsumexp([logq[i, j, k] + math.log(w[i, j]) for j in range(b)]) for k in range(d))
        tcs.append(joint - marginals)
    return float(np.mean(tcs))


@pytest.mark.parametrize("stratified", [False, True])
def test_btcvae_tc_estimator_matches_brute_force(stratified):
    gen = torch.Generator().manual_seed(1)
    mu = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    logvar = torch.randn(6, 3, generator=gen, dtype=torch.float64) * 0.3 - 1
    z = mu + torch.exp(0.5 * logvar) * torch.randn(6, 3, generator=gen, dtype=torch.float64)
    got = obj.total_correlation(z, mu, logvar, dataset_size=1000, stratified=stratified).item()
    want = _brute_force_tc(z.numpy(), mu.numpy(), logvar.numpy(), 1000, stratified)
    assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("strength_as, weight", [("lambda", 6.0), ("beta", 5.0)])
def test_btcvae_strength_reading(strength_as, weight):
    """strength 6 adds 6 TC as the thesis' lambda, 5 TC as Chen et al.'s beta (disentanglement_lib's reading)."""
    gen = torch.Generator().manual_seed(3)
    x = (torch.rand(8, 1, 4, 4, generator=gen) > 0.5).float()
    mu, logvar = torch.randn(8, 3, generator=gen), torch.randn(8, 3, generator=gen) * 0.3
    z = mu + torch.exp(0.5 * logvar) * torch.randn(8, 3, generator=gen)
    out = (torch.randn(8, 1, 4, 4, generator=gen), mu, logvar, z)
    terms = obj.make_objective("btcvae", 6.0, 100, {"strength_as": strength_as}).loss(out, x, 0, {})
    assert torch.allclose(terms["loss"], terms["reconstruction"] + terms["kl"] + weight * terms["tc"])
    plain = obj.make_objective("btcvae", 1.0, 100, {"strength_as": "beta"}).loss(out, x, 0, {})
    assert torch.equal(plain["loss"], plain["reconstruction"] + plain["kl"])


def test_stratified_weights_are_a_distribution_per_row():
    w = obj.log_importance_weights(8, 1000).exp()
    assert torch.allclose(w.sum(dim=1), torch.ones(8))


def test_dip_covariance_matches_numpy():
    gen = torch.Generator().manual_seed(2)
    mu = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    logvar = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    cov_i = obj.dip_covariance(mu, logvar, "i").numpy()
    assert np.allclose(cov_i, np.cov(mu.numpy(), rowvar=False, bias=True))
    cov_ii = obj.dip_covariance(mu, logvar, "ii").numpy()
    assert np.allclose(cov_ii, cov_i + np.diag(np.exp(logvar.numpy()).mean(axis=0)))


def test_dip_regulariser_is_the_thesis_penalty():
    out = (torch.zeros(5, 1, 2, 2), torch.randn(5, 3), torch.zeros(5, 3), torch.zeros(5, 3))
    x = torch.zeros(5, 1, 2, 2)
    parts = obj.DIPVAE(2.0, 100, variant="ii").loss(out, x, 0, {})
    cov = np.cov(out[1].numpy(), rowvar=False, bias=True) + np.eye(3)
    off = (cov**2).sum() - (np.diag(cov) ** 2).sum()
    assert math.isclose(parts["regulariser"].item(), 2.0 * (off + ((np.diag(cov) - 1) ** 2).sum()), rel_tol=1e-5)


def test_factorvae_tc_is_the_logit_difference():
    torch.manual_seed(0)
    objective = obj.FactorVAE(10.0, 100)
    discriminator = Discriminator(3, 16, 2, 0.2)
    z = torch.randn(7, 3)
    out = (torch.zeros(7, 1, 2, 2), torch.zeros(7, 3), torch.zeros(7, 3), z)
    parts = objective.loss(out, torch.zeros(7, 1, 2, 2), 0, {}, discriminator=discriminator)
    logits = discriminator(z)
    assert torch.isclose(parts["tc"], (logits[:, 0] - logits[:, 1]).mean())
    assert torch.isclose(parts["loss"], parts["reconstruction"] + parts["kl"] + 10 * parts["tc"])


def test_permute_dims_shuffles_each_dimension_separately():
    z = torch.arange(40.0).reshape(10, 4)
    p = obj.permute_dims(z, torch.rand(z.shape, generator=torch.Generator().manual_seed(0)))
    for k in range(4):
        assert sorted(p[:, k].tolist()) == z[:, k].tolist()
    assert not torch.equal(p, z)


def test_annealed_capacity_grows_then_stays():
    objective = obj.AnnealedVAE(10.0, 100, capacity_max=5.0, capacity_steps=10)
    mu = torch.zeros(2, 3)
    out = (torch.zeros(2, 1, 2, 2), mu, torch.zeros(2, 3), mu)
    regs = [objective.loss(out, torch.zeros(2, 1, 2, 2), s, None)["regulariser"].item() for s in (0, 5, 20)]
    assert regs == [0.0, 25.0, 50.0]  # KL is 0, so gamma * |0 - C|


def test_mmd_is_small_for_the_same_distribution_and_large_otherwise():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 5, generator=gen), torch.randn(400, 5, generator=gen)
    assert abs(obj.mmd(a, b).item()) < 0.01
    assert obj.mmd(a, b + 3).item() > 0.3


def test_the_registry_is_the_workflow_s_list_of_models():
    from dislab.cells import DISCRIMINATOR_MODELS, MODEL_NAMES

    assert set(obj.REGISTRY) == set(MODEL_NAMES)
    assert {name for name, cls in obj.REGISTRY.items() if cls.uses_discriminator} == set(DISCRIMINATOR_MODELS)


def test_unknown_model_and_options_are_refused():
    with pytest.raises(ValueError, match="unknown model"):
        obj.make_objective("wizardvae", 1.0, 10, {})
    with pytest.raises(ValueError, match="sampling"):
        obj.make_objective("btcvae", 1.0, 10, {"sampling": "xyz"})
    with pytest.raises(ValueError, match="strength_as"):
        obj.make_objective("btcvae", 1.0, 10, {"strength_as": "gamma"})
