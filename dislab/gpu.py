"""What a machine's GPUs look like without importing torch (the Snakefile asks before a local run that trains on
``cuda``), and the advice every "no GPU" message gives."""

from __future__ import annotations

import os
import shutil
import subprocess

OTHER_DEVICE = "set training.device to cpu or auto"
ADVICE = (
    "check `nvidia-smi` on that machine, CUDA_VISIBLE_DEVICES, that the job was given a GPU (resources.train.gpus), "
    "and that its environment has a CUDA build of PyTorch (conda creates envs/train.yaml with one only where a GPU "
    "driver is visible: on a login node without a GPU, set CONDA_OVERRIDE_CUDA, see the README's cluster section); "
    f"or {OTHER_DEVICE}"
)


def hidden_by_environment() -> str | None:
    """Why CUDA_VISIBLE_DEVICES hides every GPU from this process, if it does."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={visible!r} hides every GPU"
    return None


def allocated_gpus() -> str | None:
    """The GPUs a scheduler says this process was given (CUDA_VISIBLE_DEVICES, Slurm's variables), if any."""
    for name in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"):
        value = os.environ.get(name, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            return f"{name}={value}"
    count = os.environ.get("SLURM_GPUS_ON_NODE", "").strip()
    if count.isdigit() and int(count) > 0:
        return f"SLURM_GPUS_ON_NODE={count}"
    return None


def no_gpu_here() -> str | None:
    """Why this machine has no usable NVIDIA GPU, or None when ``nvidia-smi`` lists one and nothing hides it."""
    hidden = hidden_by_environment()
    if hidden:
        return hidden
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "this machine has no nvidia-smi (no NVIDIA driver)"
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi -L failed ({exc})"
    if not any(line.startswith("GPU ") for line in listed.splitlines()):
        return "nvidia-smi lists no GPU"
    return None
