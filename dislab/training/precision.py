"""``training.precision``: how much float32 arithmetic may be rounded for speed.

- ``float32``: strict IEEE float32 everywhere (the thesis' arithmetic; TF32 is switched off on GPUs, where cuDNN
  would otherwise use it for convolutions by default).
- ``tf32``: float32 tensors, TF32 tensor-core matmuls and convolutions on NVIDIA GPUs (Ampere and later); the
  same as ``float32`` on a CPU.
- ``bfloat16``: the networks' forward passes (the VAE's, FactorVAE's second encoder pass and its discriminator)
  under bfloat16 autocast; the objective, the gradients' accumulation into the float32 weights and Adam stay
  float32.

``scripts/compare_precision.py`` trains the same cells both ways and prints the loss curves' gap next to the
gap between seeds.
"""

from __future__ import annotations

import contextlib
import logging
import platform

import torch

log = logging.getLogger(__name__)

PRECISIONS = ("float32", "tf32", "bfloat16")


def set_precision(precision: str) -> None:
    """Set the process's float32 arithmetic, and deterministic cuDNN kernels (training on a GPU resumes and packs to
    the bit; docs/performance.md). Through PyTorch's older switches, which every reader of them, old
    (``allow_tf32``, ``get_float32_matmul_precision``, read by torch.compile's autotuning) and new
    (``fp32_precision``), can read afterwards; setting the new ones leaves some old readers raising."""
    if precision not in PRECISIONS:
        raise ValueError(f"training.precision must be one of {PRECISIONS}, got {precision!r}")
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def autocast(device: torch.device, precision: str):
    """The context the networks' forward pass runs in."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def has_native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` does bfloat16 arithmetic in hardware; an x86 CPU without AVX-512 BF16 or AMX emulates it,
    far slower than float32 (docs/performance.md)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type != "cpu" or platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def warn_if_emulated(precision: str, device: torch.device) -> None:
    if precision != "bfloat16" or has_native_bfloat16(device):
        return
    if device.type == "cuda":
        log.warning(
            "training.precision is bfloat16, but this GPU (%s) has no native bfloat16 arithmetic (it came "
            "with Ampere): it is emulated and slower than float32. Set training.precision: float32.",
            torch.cuda.get_device_name(device),
        )
    else:
        log.warning(
            "training.precision is bfloat16, but this CPU has no bfloat16 arithmetic (no AVX-512 BF16 or "
            "AMX): it is emulated and runs about 10x slower than float32. Set training.precision: float32."
        )
