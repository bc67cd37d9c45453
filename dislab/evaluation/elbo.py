"""ELBO, reconstruction and KL of a trained model on a fixed, seeded evaluation set."""

from __future__ import annotations

import numpy as np
import torch

from dislab.models.objectives import kl_per_dim, reconstruction_loss


@torch.no_grad()
def elbo_scores(model, data, rng, num_points: int, batch_size: int = 1024) -> dict:
    indices = data.indices_from_factors(data.sample_factors(num_points, rng))
    noise_gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    recon_sum, kl_sum, kl_dims = 0.0, 0.0, np.zeros(model.latent_dim)
    for start in range(0, num_points, batch_size):
        chunk = indices[start : start + batch_size]
        x = torch.from_numpy(data.images(chunk)[:, None].astype(np.float32))
        noise = torch.randn((len(chunk), model.latent_dim), generator=noise_gen)
        logits, mu, logvar, _ = model(x, noise)
        recon_sum += reconstruction_loss(logits, x).item() * len(chunk)
        per_dim = kl_per_dim(mu, logvar).numpy() * len(chunk)
        kl_dims += per_dim
        kl_sum += per_dim.sum()
    recon, kl = recon_sum / num_points, kl_sum / num_points
    return {"elbo": -(recon + kl), "reconstruction": recon, "kl": kl, "kl_per_dim": (kl_dims / num_points).tolist()}
