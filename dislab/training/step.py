"""One training step, written once for one cell and for a pack of cells.

``Step`` is the algorithm of one cell's step as functions of the parameters: the VAE's forward pass and loss and,
for FactorVAE, the discriminator's loss on a second batch. The single-cell trainer (dislab.training.cell) calls
them on its own parameters, in whatever memory layout they have (channels-last included); the pack
(dislab.training.pack) calls the same functions under ``torch.func.vmap`` on stacked parameters. ``take_step`` is
the rest of a step (batches, random draws, backward passes, optimiser updates), also once for both: a trainer gives
it its ``batches``, its draws, its parameters and optimisers, and the ``Step`` functions to call.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from dislab.training.precision import autocast, set_precision

RECORDED = ("loss", "reconstruction", "kl", "tc", "regulariser", "disc_loss")
NOISE_STREAM = 1_000  # keeps the sampling-noise seed apart from the data-order seeds


class Step:
    """One cell's step as functions of its parameters. ``vae`` and ``discriminator`` give the structure the
    parameters are called with (``functional_call``); their own tensors are not used. Building it sets the
    process's float32 arithmetic for ``precision`` (dislab.training.precision.set_precision)."""

    def __init__(self, objective, vae: torch.nn.Module, discriminator, device: torch.device, precision: str):
        set_precision(precision)
        self.objective, self.vae, self.discriminator = objective, vae, discriminator
        self.device, self.precision = device, precision

    def vae_loss(self, params: dict, disc_params: dict | None, x, noise, draws: dict, step):
        """The objective's terms (``loss`` and its parts) and the latents z of the batch ``x``. ``disc_params``:
        FactorVAE's discriminator, detached (in the VAE's loss it is a constant, so the backward pass computes no
        weight gradients that the discriminator's own update would throw away)."""
        with autocast(self.device, self.precision):
            out = functional_call(self.vae, params, (x, noise))
        out = tuple(t.float() for t in out)  # the objective in float32 whatever the precision
        discriminator = None if disc_params is None else self.discriminator_fn(disc_params)
        return self.objective.loss(out, x, step, draws, discriminator=discriminator), out[3]

    def discriminator_loss(self, params: dict, disc_params: dict, x2, z, z2_noise, uniform):
        """FactorVAE's discriminator loss: z of the VAE's batch against a dimension-wise permutation of the latents
        of a second batch ``x2``, encoded in the step's precision without gradient, z2 = mu + sigma * noise."""
        encoder = {k.removeprefix("encoder."): v.detach() for k, v in params.items() if k.startswith("encoder.")}
        with torch.no_grad(), autocast(self.device, self.precision):
            mu, logvar = functional_call(self.vae.encoder, encoder, (x2,))
        z2 = mu.float() + torch.exp(0.5 * logvar.float()) * z2_noise
        return self.objective.discriminator_loss(z, z2, uniform, discriminator=self.discriminator_fn(disc_params))

    def discriminator_fn(self, disc_params: dict):
        """The discriminator as the objective calls it: with ``disc_params``, in the step's precision, float32
        logits out."""

        def logits(z):
            with autocast(self.device, self.precision):
                return functional_call(self.discriminator, disc_params, (z,)).float()

        return logits


def take_step(trainer, step: int) -> torch.Tensor:
    """One optimisation step of ``trainer`` (a cell or a pack); returns the recorded values, (len(RECORDED),) for a
    cell and (cells, len(RECORDED)) for a pack, NaN where the objective has no such term.

    ``trainer`` gives: ``batches(step, stream)``, ``draws_for_loss(batch)``, ``draws_for_discriminator(batch)``,
    ``params``, ``disc_params`` (None without a discriminator), ``optimizer``, ``disc_optimizer``, ``vae_step`` and
    ``disc_step`` (its ``Step``'s two losses, as it calls them), ``step_tensor`` and ``undefined``."""
    t = trainer
    x = t.batches(step, 0)
    noise, draws = t.draws_for_loss(x)
    disc_params = None if t.disc_params is None else detached(t.disc_params)
    parts, z = t.vae_step(t.params, disc_params, x, noise, draws, t.step_tensor.fill_(step))
    t.optimizer.zero_grad(set_to_none=True)
    parts["loss"].sum().backward()  # a pack's cells are independent: each gets its own gradient
    t.optimizer.step()
    if t.disc_params is not None:
        x2 = t.batches(step, 1)
        z2_noise, uniform = t.draws_for_discriminator(x2)
        parts["disc_loss"] = t.disc_step(t.params, t.disc_params, x2, z.detach(), z2_noise, uniform)
        t.disc_optimizer.zero_grad(set_to_none=True)
        parts["disc_loss"].sum().backward()
        t.disc_optimizer.step()
    return torch.stack([parts[k].detach() if k in parts else t.undefined for k in RECORDED], dim=-1)


def detached(params: dict) -> dict:
    return {name: p.detach() for name, p in params.items()}


def compiled(fn, compile: bool):
    """``fn`` under ``torch.compile`` (its default mode) when ``compile``; ``scripts/bench.py`` tries other modes.
    Inductor then runs in its deterministic mode: it picks kernels without timing them on the device (which can pick
    other reductions from one run to the next), so a compiled run resumes and repeats to the bit as an eager one."""
    if not compile:
        return fn
    import torch._inductor.config

    torch._inductor.config.deterministic = True
    return torch.compile(fn)


def step_holder(device: torch.device) -> torch.Tensor:
    """The step as the objective sees it: a float64 tensor on the device, filled in place each step, so that a
    compiled step sees one input tensor rather than a new Python int it would specialise on. float64 gives
    AnnealedVAE's capacity the same float32 value as arithmetic on the Python int."""
    return torch.zeros((), dtype=torch.float64, device=device)
