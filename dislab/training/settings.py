"""What a training cell's weights and log depend on (``TrainSettings``), and nothing else: not how the job runs
(dislab.training.execution) nor how often it checkpoints (resuming is exact, so the cadence changes no number; the
training loop takes it). Torch-free, so the fidelity table reads it too."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass


@dataclass
class TrainSettings:
    latent_dim: int
    batch_size: int
    learning_rate: float
    adam_betas: tuple
    discriminator: dict
    epochs: float
    steps: int | None
    log_every: int
    precision: str
    options: dict

    @classmethod
    def from_config(cls, settings: dict) -> TrainSettings:
        """``settings``: the train rule's (the discriminator only for FactorVAE, ``steps`` or ``epochs``) or whole
        config sections (``model``, ``training`` and the model's ``options``)."""
        model, training = settings["model"], settings["training"]
        return cls(
            latent_dim=model["latent_dim"],
            batch_size=model["batch_size"],
            learning_rate=model["learning_rate"],
            adam_betas=tuple(model["adam_betas"]),
            discriminator=dict(model.get("discriminator") or {}),
            epochs=training.get("epochs"),
            steps=training.get("steps"),
            log_every=training["log_every"],
            precision=training["precision"],
            options=dict(settings.get("options", {})),
        )

    def total_steps(self, steps_per_epoch: int) -> int:
        return self.steps if self.steps else max(1, round(self.epochs * steps_per_epoch))

    def fingerprint(self) -> str:
        """What a checkpoint must match to be resumed: every setting."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
