"""The representation function the metrics see: factor classes -> encoder means, batched and memoised.

dSprites has one image per factor combination, and the encoder mean is deterministic, so each image is
encoded at most once per evaluation however often the metrics sample it (the β-VAE metric alone asks for more
codes than the dataset has images).
"""

from __future__ import annotations

import numpy as np
import torch

from dislab.progress import progress_bar

# Small batches keep the activations in the CPU's cache (docs/performance.md).
CPU_BATCH = 64


class EncoderMeans:
    """Evaluation runs on the CPU (its jobs run on CPU nodes, in an environment with PyTorch's CPU build): the
    model is used where it is, which ``load_vae`` makes the CPU."""

    def __init__(self, model, data, batch_size: int = CPU_BATCH, memoise: bool = True, progress: bool = False):
        self.model, self.data = model, data
        self.memoise, self.progress = memoise, progress
        self.batch_size = batch_size
        self.latent_dim = model.latent_dim
        self.codes = np.zeros((len(data), self.latent_dim), dtype=np.float32) if memoise else None
        self.known = np.zeros(len(data), dtype=bool) if memoise else None
        self.encoded = 0  # images passed through the encoder

    @torch.no_grad()
    def encode_indices(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), self.latent_dim), dtype=np.float32)
        starts = range(0, len(indices), self.batch_size)
        for start in progress_bar(
            starts, desc="encoding", unit="batch", disable=not self.progress or len(starts) < 100, mininterval=10
        ):
            chunk = indices[start : start + self.batch_size]
            x = torch.from_numpy(self.data.images(chunk)[:, None].astype(np.float32))
            out[start : start + len(chunk)] = self.model.encoder(x)[0].float().numpy()
        self.encoded += len(indices)
        return out

    def __call__(self, factors: np.ndarray) -> np.ndarray:
        indices = self.data.indices_from_factors(factors)
        if not self.memoise:
            return self.encode_indices(indices)
        missing = np.unique(indices[~self.known[indices]])
        if len(missing):
            self.codes[missing] = self.encode_indices(missing)
            self.known[missing] = True
        return self.codes[indices]
