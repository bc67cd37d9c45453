"""Rebuild a trained VAE from a cell's ``model.pt``."""

from __future__ import annotations

import io

import torch

from dislab.atomic import atomic_path
from dislab.errors import DislabError
from dislab.models.networks import VAE


def load_vae(path, device="cpu") -> VAE:
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        model = VAE(state["latent_dim"])
        model.load_state_dict(state["model"])
    except (OSError, RuntimeError, KeyError, EOFError) as exc:
        raise DislabError(f"model checkpoint {path} is unreadable ({exc}); delete it and rerun its training") from exc
    return model.to(device).eval()


def save_torch(obj, path) -> None:
    """``torch.save`` to ``path`` atomically, and the same bytes for the same object: saved to memory, the archive
    inside is named ``archive``, not after the temporary file; written in one go, a full disk raises the OS's
    ENOSPC rather than torch's own serialization error."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path, suffix=".pt") as tmp:
        tmp.write_bytes(buffer.getbuffer())
