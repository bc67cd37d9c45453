"""Training objectives: loss to minimise = -ELBO + an extra term whose weight is the cell's strength.

Each ``loss`` returns 0-dim tensors ``loss, reconstruction, kl, regulariser`` and, where the model has one,
``tc`` (a total-correlation estimate). Nothing here synchronises with the device, and nothing here draws random
numbers: what an objective needs is drawn beforehand by its ``draw`` method from the cell's own generator, so the
same code runs for one cell and, under ``torch.func.vmap``, for a pack of cells.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


# -- shared pieces -------------------------------------------------------------------------------------
def reconstruction_loss(logits, x):
    """Bernoulli negative log-likelihood: cross-entropy summed over pixels, averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def kl_per_dim(mu, logvar):
    """KL(q(z_i|x) || N(0, 1)) in closed form, averaged over the batch: a (latent_dim,) vector."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).mean(dim=0)


def gaussian_log_density(z, mu, logvar):
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))


def _elbo_terms(out, x):
    logits, mu, logvar, _ = out
    return reconstruction_loss(logits, x), kl_per_dim(mu, logvar).sum()


def terms(loss, rec, kl, regulariser, **extra) -> dict:
    """What ``Objective.loss`` returns: the loss to minimise and its parts (the trainers log each)."""
    return {"loss": loss, "reconstruction": rec, "kl": kl, "regulariser": regulariser, **extra}


class Objective:
    """One model's objective. ``strength`` weighs the model's extra term."""

    name = ""
    uses_discriminator = False
    # The terms its loss defines, of those the trainers record (dislab.training.step.RECORDED): the training loop
    # judges divergence on these and the log leaves the others empty.
    recorded = ("loss", "reconstruction", "kl", "regulariser")

    def __init__(self, strength: float, dataset_size: int, **options):
        self.strength = float(strength)
        self.dataset_size = int(dataset_size)
        if options:
            raise ValueError(f"{self.name} takes no options {sorted(options)}")

    def draw(self, batch_size: int, latent_dim: int, generator: torch.Generator, device) -> dict:
        """The random numbers one ``loss`` call needs, drawn from the cell's generator (none by default)."""
        return {}

    def loss(self, out, x, step: int, draws: dict, discriminator=None) -> dict:
        raise NotImplementedError


class BetaVAE(Objective):
    """recon + beta * KL (beta = 1 is the plain VAE)."""

    name = "betavae"

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        return terms(rec + self.strength * kl, rec, kl, (self.strength - 1) * kl)


class AnnealedVAE(Objective):
    """Burgess et al.: recon + gamma * |KL - C|, the capacity C growing linearly to capacity_max."""

    name = "annealedvae"

    def __init__(self, strength, dataset_size, capacity_max: float = 25.0, capacity_steps: int = 100000):
        super().__init__(strength, dataset_size)
        self.capacity_max, self.capacity_steps = float(capacity_max), int(capacity_steps)

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        capacity = self.capacity_max * step / self.capacity_steps  # step: an int, or the trainers' float64 tensor
        if torch.is_tensor(capacity):  # rounded to float32 once, as a Python float meeting a float32 tensor is
            capacity = capacity.clamp(max=self.capacity_max).float()
        else:
            capacity = min(self.capacity_max, capacity)
        reg = self.strength * (kl - capacity).abs()
        return terms(rec + reg, rec, kl, reg)


def permute_dims(z, uniform):
    """Shuffle each latent dimension independently across the batch (the order of ``uniform``, same shape as z):
    samples of prod_i q(z_i)."""
    return torch.gather(z, 0, torch.argsort(uniform, dim=0))


class FactorVAE(Objective):
    """recon + KL + lambda * TC, TC = E[logit_q(z) - logit_prod(z)] from the discriminator."""

    name = "factorvae"
    uses_discriminator = True  # the trainer owns it and passes it in (dislab.training.step.Step.discriminator_fn)
    recorded = (*Objective.recorded, "tc", "disc_loss")

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        logits = discriminator(out[3])
        tc = (logits[:, 0] - logits[:, 1]).mean()
        return terms(rec + kl + self.strength * tc, rec, kl, self.strength * tc, tc=tc)

    def discriminator_loss(self, z, z_other, uniform, discriminator):
        """Cross-entropy of telling z ~ q(z) (class 0) from a dimension-wise permutation of a second batch (class 1);
        ``uniform`` (shape of z) sets the permutation."""
        real = discriminator(z.detach())
        fake = discriminator(permute_dims(z_other.detach(), uniform))
        zeros = torch.zeros(len(real), dtype=torch.long, device=real.device)
        return 0.5 * (F.cross_entropy(real, zeros) + F.cross_entropy(fake, torch.ones_like(zeros)))


def log_importance_weights(batch_size: int, dataset_size: int, device=None, dtype=torch.float32):
    """log weights of minibatch-stratified sampling (Chen et al. 2018, App. C.2): row i weighs q(z_i | x_j)."""
    m = batch_size - 1  # the other samples of the batch
    weights = torch.full((batch_size, batch_size), 1.0 / m, device=device, dtype=dtype)
    idx = torch.arange(batch_size, device=device)
    weights[idx, idx] = 1.0 / dataset_size
    weights[idx, (idx + 1) % batch_size] = (dataset_size - m) / (dataset_size * m)
    return weights.log()


def total_correlation(z, mu, logvar, dataset_size: int, stratified: bool = False):
    """Minibatch estimate of TC = E[log q(z) - sum_i log q(z_i)], including the log(N M) constants."""
    batch = z.shape[0]
    log_q = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])  # (i, j, dim)
    if stratified:
        log_w = log_importance_weights(batch, dataset_size, z.device, z.dtype)
    else:  # minibatch-weighted sampling
        log_w = torch.full((batch, batch), -math.log(dataset_size * batch), device=z.device, dtype=z.dtype)
    log_qz = torch.logsumexp(log_q.sum(dim=2) + log_w, dim=1)
    log_prod_qzi = torch.logsumexp(log_q + log_w[:, :, None], dim=1).sum(dim=1)
    return (log_qz - log_prod_qzi).mean()


class BetaTCVAE(Objective):
    """recon + KL + w * TC, TC by minibatch-weighted or -stratified sampling.

    ``strength_as`` says what the strength s is: ``lambda`` (the thesis' Section 4.3, w = s; Chen et al.'s beta is
    1 + s) or ``beta`` (Chen et al.'s and disentanglement_lib's beta, w = s - 1, so that s = 1 is the plain VAE).
    """

    name = "btcvae"
    recorded = (*Objective.recorded, "tc")

    def __init__(self, strength, dataset_size, sampling: str = "mws", strength_as: str = "lambda"):
        super().__init__(strength, dataset_size)
        if sampling not in ("mws", "mss"):
            raise ValueError(f"btcvae sampling must be 'mws' or 'mss', got {sampling!r}")
        if strength_as not in ("lambda", "beta"):
            raise ValueError(f"btcvae strength_as must be 'lambda' or 'beta', got {strength_as!r}")
        self.stratified = sampling == "mss"
        self.tc_weight = self.strength if strength_as == "lambda" else self.strength - 1.0

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        _, mu, logvar, z = out
        tc = total_correlation(z, mu, logvar, self.dataset_size, self.stratified)
        return terms(rec + kl + self.tc_weight * tc, rec, kl, self.tc_weight * tc, tc=tc)


def dip_covariance(mu, logvar, variant: str = "ii"):
    """Cov[mu(x)] (DIP-VAE-I), plus E[diag sigma^2(x)] for Cov_q(z)[z] (DIP-VAE-II)."""
    centred = mu - mu.mean(dim=0, keepdim=True)
    cov = centred.T @ centred / mu.shape[0]
    if variant == "ii":
        cov = cov + torch.diag(logvar.exp().mean(dim=0))
    return cov


class DIPVAE(Objective):
    """recon + KL + lambda * (sum_{k != l} Cov_kl^2 + sum_k (Cov_kk - 1)^2), lambda_od = lambda_d = lambda."""

    name = "dipvae"

    def __init__(self, strength, dataset_size, variant: str = "ii"):
        super().__init__(strength, dataset_size)
        if variant not in ("i", "ii"):
            raise ValueError(f"dipvae variant must be 'i' or 'ii', got {variant!r}")
        self.variant = variant

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        cov = dip_covariance(out[1], out[2], self.variant)
        diag = torch.diagonal(cov)
        penalty = (cov.pow(2).sum() - diag.pow(2).sum()) + (diag - 1).pow(2).sum()
        reg = self.strength * penalty
        return terms(rec + kl + reg, rec, kl, reg)


def mmd(a, b, kernel_scale: float = 1.0):
    """Unbiased squared MMD between two equal-size samples with a Gaussian kernel of width 2 * dim * scale."""
    n, dim = a.shape
    width = 2.0 * dim * kernel_scale

    def k(u, v):
        return torch.exp(-torch.cdist(u, v).pow(2) / width)

    off_diag = 1 - torch.eye(n, device=a.device)
    kaa = (k(a, a) * off_diag).sum() / (n * (n - 1))
    kbb = (k(b, b) * off_diag).sum() / (n * (n - 1))
    return kaa + kbb - 2 * k(a, b).mean()


class InfoVAE(Objective):
    """recon + KL + lambda * MMD(q(z), N(0, I)) (Zhao et al.)."""

    name = "infovae"

    def __init__(self, strength, dataset_size, kernel_scale: float = 1.0):
        super().__init__(strength, dataset_size)
        self.kernel_scale = float(kernel_scale)

    def draw(self, batch_size, latent_dim, generator, device):
        return {"prior": torch.randn((batch_size, latent_dim), generator=generator, device=device)}

    def loss(self, out, x, step, draws, discriminator=None):
        rec, kl = _elbo_terms(out, x)
        reg = self.strength * mmd(out[3], draws["prior"], self.kernel_scale)
        return terms(rec + kl + reg, rec, kl, reg)


REGISTRY = {cls.name: cls for cls in (BetaVAE, FactorVAE, BetaTCVAE, DIPVAE, AnnealedVAE, InfoVAE)}


def make_objective(model: str, strength: float, dataset_size: int, options: dict) -> Objective:
    if model not in REGISTRY:
        raise ValueError(f"unknown model {model!r}; the registry has {sorted(REGISTRY)}")
    return REGISTRY[model](strength, dataset_size, **options)
