"""How a training job runs, as opposed to what it computes: the device, the convolutions' memory layout and
``torch.compile``. One value, built once per job and shared by the trainers of a pack. The float32 arithmetic
(``precision``) is part of what the weights depend on: dislab.training.settings.TrainSettings holds it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from dislab.errors import TrainingError
from dislab.gpu import ADVICE as GPU_ADVICE
from dislab.gpu import allocated_gpus, hidden_by_environment


def _torch_build() -> str:
    return f"torch {torch.__version__} ({f'CUDA {torch.version.cuda}' if torch.version.cuda else 'a CPU-only build'})"


def pick_device(requested: str | torch.device) -> torch.device:
    """The training device; a GPU that was asked for (or given to the job) and is not usable stops the job at once."""
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(requested)):
        raise TrainingError(f"training.device is {str(requested)!r}: it must be auto, cpu, cuda or cuda:N")
    if str(requested) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        given = allocated_gpus()
        if given:
            raise TrainingError(
                f"training.device is 'auto' and this job was given a GPU ({given}), but "
                f"{_torch_build()} sees none; it would train on the CPU: {GPU_ADVICE}"
            )
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if not visible:
            raise TrainingError(
                f"training.device is '{requested}' but {_torch_build()} sees no GPU here "
                f"({hidden_by_environment() or 'no usable CUDA device'}): {GPU_ADVICE}"
            )
        if device.index is not None and device.index >= visible:
            raise TrainingError(
                f"training.device is '{requested}' but only {visible} CUDA GPU(s) are visible "
                f"(cuda:0 to cuda:{visible - 1})"
            )
    return device


@dataclass(frozen=True)
class Execution:
    """``device``: where the step runs; ``channels_last``: channels-last convolutions (one cell at a time; a pack's
    grouped convolutions keep the default layout); ``compile``: ``torch.compile`` the step."""

    device: torch.device
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def build(cls, device: str | torch.device = "auto", channels_last=False, compile=False) -> Execution:
        """The execution of a job, its device checked: a GPU that is missing stops the job here, before anything
        slow."""
        return cls(pick_device(device), bool(channels_last), bool(compile))

    def facts(self, precision: str, pack_size: int) -> dict:
        """What ran a training job: the first line of its log and a section of each cell's summary.json."""
        return {
            "device": str(self.device),
            "gpu": torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else None,
            "torch": torch.__version__,
            "cuda_build": torch.version.cuda,
            "precision": precision,
            "pack_size": pack_size,
            "channels_last": self.channels_last,
            "compile": self.compile,
        }

    def describe(self, precision: str, pack_size: int) -> str:
        facts = self.facts(precision, pack_size)
        on = f"{facts['device']} ({facts['gpu']})" if facts["gpu"] else facts["device"]
        build = f"CUDA {facts['cuda_build']}" if facts["cuda_build"] else "CPU-only build"
        return (
            f"device {on}, torch {facts['torch']} ({build}), precision {precision}, pack of {pack_size}, "
            f"channels-last {'on' if self.channels_last else 'off'}, compile {'on' if self.compile else 'off'}"
        )
