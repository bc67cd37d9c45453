"""Batches without a per-item ``__getitem__``: index batches gathered from the (bit-packed) dataset on the device.

The data order is a function of (seed, epoch, stream) alone, so a resumed run needs only its step to know where
it is. Stream 0 feeds the VAE; stream 1 is FactorVAE's second batch for the discriminator.
"""

from __future__ import annotations

import numpy as np
import torch

_BIT_SHIFTS: dict[torch.device, torch.Tensor] = {}  # per device: no host-to-device copy per batch


def bit_shifts(device: torch.device) -> torch.Tensor:
    """7, 6, ..., 0 on ``device`` (np.packbits is most-significant bit first), made once per device."""
    if device not in _BIT_SHIFTS:
        _BIT_SHIFTS[device] = torch.arange(7, -1, -1, dtype=torch.uint8, device=device)
    return _BIT_SHIFTS[device]


def derived_seed(*keys: int) -> int:
    return int(np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0] >> 1)


def unpack_images(packed: torch.Tensor) -> torch.Tensor:
    """(n, 64, 8) packed bytes -> (n, 1, 64, 64) float32 pixels in {0, 1}, on the same device."""
    bits = (packed.unsqueeze(-1) >> bit_shifts(packed.device)) & 1
    return bits.reshape(packed.shape[0], 1, packed.shape[1], -1).float()


class BatchSampler:
    def __init__(self, packed: torch.Tensor, batch_size: int, seed: int):
        self.packed = packed
        self.batch_size = batch_size
        self.seed = seed
        self.steps_per_epoch = len(packed) // batch_size  # the last partial batch of an epoch is dropped
        if self.steps_per_epoch == 0:
            raise ValueError(f"batch size {batch_size} is larger than the dataset ({len(packed)} images)")
        self._orders = {}

    def _order(self, epoch: int, stream: int) -> torch.Tensor:
        key = (epoch, stream)
        if key not in self._orders:
            self._orders = {k: v for k, v in self._orders.items() if k[1] != stream}  # keep one epoch per stream
            gen = torch.Generator(device=self.packed.device)
            gen.manual_seed(derived_seed(self.seed, epoch, stream))
            self._orders[key] = torch.randperm(len(self.packed), generator=gen, device=self.packed.device)
        return self._orders[key]

    def indices(self, step: int, stream: int = 0) -> torch.Tensor:
        epoch, position = divmod(step, self.steps_per_epoch)
        start = position * self.batch_size
        return self._order(epoch, stream)[start : start + self.batch_size]

    def batch(self, step: int, stream: int = 0) -> torch.Tensor:
        return unpack_images(self.packed[self.indices(step, stream)])
