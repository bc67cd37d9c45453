"""The pieces of a training step that the single-cell trainer and the pack share."""

from __future__ import annotations

import torch
from torch.func import functional_call

from dislab.training.precision import autocast

RECORDED = ("loss", "reconstruction", "kl", "tc", "regulariser", "disc_loss")
NOISE_STREAM = 1_000  # keeps the sampling-noise seed apart from the data-order seeds


def discriminator_fn(discriminator: torch.nn.Module, params: dict, device: torch.device, precision: str):
    """The FactorVAE discriminator as the objective calls it: with ``params``, in the step's precision, float32
    logits out. The VAE's loss passes detached parameters: there the discriminator is a constant, so the VAE's
    backward computes no weight gradients that the discriminator's own step would throw away."""

    def logits(z):
        with autocast(device, precision):
            return functional_call(discriminator, params, (z,)).float()

    return logits


def second_batch_latents(encode, x2, noise, device: torch.device, precision: str) -> torch.Tensor:
    """FactorVAE's z of its second batch, for the discriminator: ``encode(x2)`` in the step's precision and without
    gradient, then z = mu + sigma * noise in float32."""
    with torch.no_grad(), autocast(device, precision):
        mu, logvar = encode(x2)
    return mu.float() + torch.exp(0.5 * logvar.float()) * noise


def detached(params: dict) -> dict:
    return {name: p.detach() for name, p in params.items()}


def compiled(fn, compile: bool):
    """``fn`` under ``torch.compile`` (its default mode) when ``compile``; ``scripts/bench.py`` tries other modes."""
    return torch.compile(fn) if compile else fn


def step_holder(device: torch.device) -> torch.Tensor:
    """The step as the objective sees it: a float64 tensor on the device, filled in place each step, so that a
    compiled step sees one input tensor rather than a new Python int it would specialise on. float64 gives
    AnnealedVAE's capacity the same float32 value as arithmetic on the Python int."""
    return torch.zeros((), dtype=torch.float64, device=device)


def adam(params, lr: float, betas: tuple) -> torch.optim.Adam:
    """Adam with its fused kernel: the same update (to float rounding) in one pass over the weights."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
