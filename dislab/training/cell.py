"""One cell's own training state: its model and optimisers, data order, noise, log rows, ``resume.pt`` and
outputs; and the single-cell training step. dislab.training.pack trains several of these at once.

Outputs: ``model.pt`` (final weights and what is needed to rebuild the model), ``train_log.csv`` and
``summary.json``. While running, ``resume.pt`` holds the latest checkpoint (written atomically every
``checkpoint_every`` steps); a rerun of a killed job continues from it and ends with the same weights.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from dislab.atomic import write_json, write_text
from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.models.checkpoint import save_torch
from dislab.models.networks import VAE, Discriminator, count_parameters
from dislab.models.objectives import make_objective
from dislab.training.batches import BatchSampler, derived_seed
from dislab.training.execution import Execution
from dislab.training.kit import (
    NOISE_STREAM,
    RECORDED,
    adam,
    compiled,
    detached,
    discriminator_fn,
    second_batch_latents,
    step_holder,
)
from dislab.training.precision import autocast
from dislab.training.settings import TrainSettings

log = logging.getLogger(__name__)

LOG_COLUMNS = ("step", "epoch", "loss", "reconstruction", "kl", "tc", "regulariser", "disc_loss", "steps_per_s")


def checkpoint_device_type(state: dict) -> str:
    """The kind of device that wrote a ``resume.pt``; older ones do not say, but a CPU generator's state is 5,056
    bytes and a CUDA one's 16."""
    return state.get("device_type") or ("cpu" if state["noise_rng"].numel() > 16 else "cuda")


class CellTrainer:
    """Everything one cell's training owns: models, optimisers, RNGs, data order, log rows."""

    def __init__(self, packed, cell: Cell, settings: TrainSettings, execution: Execution, pack_size: int = 1):
        """``packed``: the bit-packed images, a numpy array or a tensor (one already on the device is shared);
        ``execution``: how the step runs (its precision is the settings'); ``pack_size``: how many cells train
        together with this one (dislab.training.pack), for the summary."""
        if execution.precision != settings.precision:
            raise ValueError(
                f"the execution's precision {execution.precision} is not the settings' {settings.precision}"
            )
        self.cell, self.settings, self.execution, self.pack_size = cell, settings, execution, pack_size
        self.device = device = execution.device
        self.sampler = BatchSampler(torch.as_tensor(packed).to(device), settings.batch_size, cell.seed)
        self.objective = make_objective(cell.model, cell.strength, len(packed), settings.options)
        with torch.random.fork_rng(devices=[]):  # initialisation depends on the seed alone, on any device
            torch.manual_seed(cell.seed)
            self.model = VAE(settings.latent_dim)
            self.discriminator = None
            if self.objective.uses_discriminator:
                d = settings.discriminator
                self.discriminator = Discriminator(
                    settings.latent_dim, d["hidden_units"], d["hidden_layers"], d["leaky_relu_slope"]
                )
        self.model.to(device)
        if execution.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.forward_loss = compiled(self._forward_loss, execution.compile)
        self.optimizer = adam(self.model.parameters(), settings.learning_rate, settings.adam_betas)
        self.disc_optimizer = None
        if self.discriminator is not None:
            self.discriminator.to(device)
            d = settings.discriminator
            self.disc_optimizer = adam(self.discriminator.parameters(), d["learning_rate"], tuple(d["adam_betas"]))
        self.undefined = torch.tensor(float("nan"), device=device)  # a part this objective does not have
        self.step_tensor = step_holder(device)
        self.noise = torch.Generator(device=device)
        self.noise.manual_seed(derived_seed(cell.seed, NOISE_STREAM))
        self.step = 0
        self.saved_step = None  # the step of the checkpoint on disk, if any
        self.rows: list[dict] = []
        self.total_steps = settings.total_steps(self.sampler.steps_per_epoch)

    # -- as a trainer of its own (dislab.training.loop) -------------------------------------------------
    @property
    def members(self) -> list[CellTrainer]:
        return [self]

    def resume(self, checkpoints: list[Path]) -> int:
        (checkpoint,) = checkpoints
        return self.step if self.try_resume(checkpoint) else 0

    def sync(self, step: int) -> None:
        self.step = step

    # -- one step -----------------------------------------------------------------------------------
    def train_step(self, step: int) -> torch.Tensor:
        """One optimisation step; returns the recorded values as a (len(RECORDED),) tensor (NaN = not defined)."""
        x = self._batch(step)
        noise, draws = self.draw_for_loss(len(x))
        parts, out = self.forward_loss(x, noise, draws, self.step_tensor.fill_(step))
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        self.optimizer.step()
        if self.discriminator is not None:
            x2 = self._batch(step, stream=1)
            z2_noise, uniform = self.draw_for_discriminator(len(x2))
            z2 = second_batch_latents(self.model.encoder, x2, z2_noise, self.device, self.execution.precision)
            discriminator = self._discriminator_fn(dict(self.discriminator.named_parameters()))
            parts["disc_loss"] = self.objective.discriminator_loss(out[3], z2, uniform, discriminator=discriminator)
            self.disc_optimizer.zero_grad(set_to_none=True)
            parts["disc_loss"].backward()
            self.disc_optimizer.step()
        return torch.stack([parts[k].detach() if k in parts else self.undefined for k in RECORDED])

    def _batch(self, step: int, stream: int = 0) -> torch.Tensor:
        x = self.sampler.batch(step, stream)
        return x.contiguous(memory_format=torch.channels_last) if self.execution.channels_last else x

    def _forward_loss(self, x, noise, draws, step):
        with autocast(self.device, self.execution.precision):
            out = self.model(x, noise)
        out = tuple(t.float() for t in out)  # the objective in float32 whatever the precision
        discriminator = None
        if self.discriminator is not None:
            discriminator = self._discriminator_fn(detached(dict(self.discriminator.named_parameters())))
        return self.objective.loss(out, x, step, draws, discriminator=discriminator), out

    def _discriminator_fn(self, params: dict):
        return discriminator_fn(self.discriminator, params, self.device, self.execution.precision)

    # The random numbers of one step, always in this order from the cell's own generator (a pack draws them the
    # same way, so a cell's stream does not depend on what it is trained with).
    def draw_for_loss(self, batch_size: int):
        shape = (batch_size, self.settings.latent_dim)
        noise = torch.randn(shape, generator=self.noise, device=self.device)
        return noise, self.objective.draw(batch_size, self.settings.latent_dim, self.noise, self.device)

    def draw_for_discriminator(self, batch_size: int):
        shape = (batch_size, self.settings.latent_dim)
        z2_noise = torch.randn(shape, generator=self.noise, device=self.device)
        return z2_noise, torch.rand(shape, generator=self.noise, device=self.device)

    # -- logging ------------------------------------------------------------------------------------
    def flush(self, buffer: torch.Tensor, first_step: int, seconds: float) -> None:
        """Turn the per-step values since the last row, (steps, len(RECORDED)), into one log row; stop on the first
        NaN or infinite loss."""
        values = buffer.cpu().numpy().astype(np.float64)
        defined = ~np.isnan(values).all(axis=0)
        bad = ~np.isfinite(values[:, defined]).all(axis=1)
        if bad.any():
            at = first_step + int(np.argmax(bad))
            kept = (
                f"the last good checkpoint (step {self.saved_step}) is kept"
                if self.saved_step
                else "no checkpoint was written yet"
            )
            raise TrainingError(
                f"cell {self.cell}: the loss became NaN or infinite at step {at}; training stopped and {kept}. "
                "Lower the learning rate or the strength, or check the data."
            )
        means = np.where(defined, np.nanmean(np.where(defined, values, 0.0), axis=0), np.nan)
        last = first_step + len(buffer)
        row = {
            "step": last,
            "epoch": last / self.sampler.steps_per_epoch,
            "steps_per_s": len(buffer) / max(seconds, 1e-9),
        }
        row.update({k: (None if np.isnan(v) else float(v)) for k, v in zip(RECORDED, means)})
        self.rows.append(row)

    # -- checkpoints --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "cell": asdict(self.cell),
            "fingerprint": self.settings.fingerprint(),
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "discriminator": self.discriminator.state_dict() if self.discriminator else None,
            "disc_optimizer": self.disc_optimizer.state_dict() if self.disc_optimizer else None,
            "noise_rng": self.noise.get_state(),
            "rows": self.rows,
            "device_type": self.device.type,
        }

    def load_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.disc_optimizer.load_state_dict(state["disc_optimizer"])
        self.noise.set_state(state["noise_rng"])
        self.step, self.rows = state["step"], list(state["rows"])

    def weights_finite(self) -> bool:
        nets = [self.model] + ([self.discriminator] if self.discriminator is not None else [])
        return bool(torch.stack([torch.isfinite(p).all() for net in nets for p in net.parameters()]).all())

    def save(self, path: Path) -> None:
        """Write ``resume.pt``, unless the weights are no longer finite: the one on disk stays the last good one."""
        if not self.weights_finite():
            log.warning(
                "%s: the weights at step %d are not finite; resume.pt is not updated (it stays at step %s)",
                self.cell,
                self.step,
                self.saved_step,
            )
            return
        save_torch(self.state(), path)
        self.saved_step = self.step

    def try_resume(self, path: Path) -> bool:
        if not path.exists():
            return False
        try:  # always to the CPU: a CUDA generator's set_state takes only a CPU byte tensor
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # a damaged checkpoint must not block the cell: start over
            log.warning("checkpoint %s is unreadable (%s); starting %s from step 0", path, exc, self.cell)
            return False
        if state.get("cell") != asdict(self.cell) or state.get("fingerprint") != self.settings.fingerprint():
            log.warning("checkpoint %s belongs to other settings; starting %s from step 0", path, self.cell)
            return False
        written_on = checkpoint_device_type(state)
        if written_on != self.device.type:
            log.warning(
                "checkpoint %s was written on %s and this job runs on %s, whose data order and noise are other "
                "streams; starting %s from step 0 (train a cell on one kind of device)",
                path,
                written_on,
                self.device.type,
                self.cell,
            )
            return False
        try:
            self.load_state(state)
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise TrainingError(f"checkpoint {path} does not fit {self.cell} ({exc}); delete it and rerun") from exc
        self.saved_step = self.step
        log.info("resumed %s from step %d of %d", self.cell, self.step, self.total_steps)
        return True

    # -- outputs ------------------------------------------------------------------------------------
    def write_outputs(self, outdir: Path, wall_seconds: float) -> dict:
        final = {
            "cell": asdict(self.cell),
            "step": self.step,
            "latent_dim": self.settings.latent_dim,
            "model": self.model.state_dict(),
            "discriminator": self.discriminator.state_dict() if self.discriminator else None,
        }
        save_torch(final, outdir / "model.pt")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=LOG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(outdir / "train_log.csv", buf.getvalue())
        last = self.rows[-1]
        summary = {
            "cell": asdict(self.cell),
            "steps": self.step,
            "epochs": self.step / self.sampler.steps_per_epoch,
            "steps_per_epoch": self.sampler.steps_per_epoch,
            "device": str(self.device),
            "pack_size": self.pack_size,
            "parameters": count_parameters(self.model),
            "wall_seconds": wall_seconds,
            "mean_steps_per_s": float(np.mean([r["steps_per_s"] for r in self.rows])),
            "final": {k: last[k] for k in RECORDED},
            "run": self.execution.facts(self.pack_size),
        }
        write_json(outdir / "summary.json", summary)
        return summary
