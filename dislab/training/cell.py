"""One cell's own training state: its model and optimisers, data order, noise, log rows, ``resume.pt`` and
outputs. Its step is dislab.training.step's, called on its own parameters; dislab.training.pack trains several of
these at once.

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
from dislab.training import optim
from dislab.training.batches import BatchSampler, derived_seed
from dislab.training.execution import Execution
from dislab.training.settings import TrainSettings
from dislab.training.step import NOISE_STREAM, RECORDED, Step, compiled, detached, step_holder, take_step

log = logging.getLogger(__name__)

LOG_COLUMNS = ("step", "epoch", "loss", "reconstruction", "kl", "tc", "regulariser", "disc_loss", "steps_per_s")


def checkpoint_device_type(state: dict) -> str:
    """The kind of device that wrote a ``resume.pt``; older ones do not say, but a CPU generator's state is 5,056
    bytes and a CUDA one's 16."""
    return state.get("device_type") or ("cpu" if state["noise_rng"].numel() > 16 else "cuda")


class CellTrainer:
    """Everything one cell's training owns: models, optimisers, RNGs, data order, log rows, warnings."""

    def __init__(self, packed, cell: Cell, settings: TrainSettings, execution: Execution, pack_size: int = 1):
        """``packed``: the bit-packed images, a numpy array or a tensor (one already on the device is shared);
        ``execution``: where and how the step runs; ``pack_size``: how many cells train together with this one
        (dislab.training.pack), for the summary."""
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
        self.params = dict(self.model.named_parameters())  # the step's parameters are the model's own
        self.optimizer = optim.optimizer(self.params.values(), settings.learning_rate, settings.adam_betas)
        self.disc_params = self.disc_optimizer = None
        if self.discriminator is not None:
            self.discriminator.to(device)
            d = settings.discriminator
            self.disc_params = dict(self.discriminator.named_parameters())
            self.disc_optimizer = optim.optimizer(self.disc_params.values(), d["learning_rate"], tuple(d["adam_betas"]))
        step = Step(self.objective, self.model, self.discriminator, device, settings.precision)
        self.vae_step = compiled(step.vae_loss, execution.compile)
        self.disc_step = compiled(step.discriminator_loss, execution.compile) if self.discriminator else None
        self.undefined = torch.tensor(float("nan"), device=device)  # a part this objective does not have
        self.step_tensor = step_holder(device)
        self.noise = torch.Generator(device=device)
        self.noise.manual_seed(derived_seed(cell.seed, NOISE_STREAM))
        self.step = 0
        self.saved_step = None  # the step of the checkpoint on disk, if any
        self.rows: list[dict] = []
        self.warnings: list[str] = []  # progress lost or not kept: in the log, summary.json and the run's end
        self.first_loss = None  # the loss of the run's first step: the scale of dislab.training.loop's range
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

    # -- one step (dislab.training.step) -------------------------------------------------------------
    def train_step(self, step: int) -> torch.Tensor:
        """One optimisation step; returns the recorded values as a (len(RECORDED),) tensor (NaN = not defined)."""
        return take_step(self, step)

    def forward_loss(self, x, noise, draws, step):
        """The first half of a step on a given batch: the objective's terms and z (for tests and benchmarks)."""
        return self.vae_step(
            self.params, None if self.disc_params is None else detached(self.disc_params), x, noise, draws, step
        )

    def batches(self, step: int, stream: int = 0) -> torch.Tensor:
        x = self.sampler.batch(step, stream)
        return x.contiguous(memory_format=torch.channels_last) if self.execution.channels_last else x

    def draws_for_loss(self, x: torch.Tensor):
        return self.draw_for_loss(len(x))

    def draws_for_discriminator(self, x2: torch.Tensor):
        return self.draw_for_discriminator(len(x2))

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
    def flush(self, values: np.ndarray, first_step: int, seconds: float) -> None:
        """One log row from the per-step values since the last row, (steps, len(RECORDED)), whose terms the loop
        has found finite: their means, NaN (an empty cell) where the objective has no such term."""
        defined = np.isin(RECORDED, self.objective.recorded)
        means = np.where(defined, np.nanmean(np.where(defined, values, 0.0), axis=0), np.nan)
        last = first_step + len(values)
        row = {
            "step": last,
            "epoch": last / self.sampler.steps_per_epoch,
            "steps_per_s": len(values) / max(seconds, 1e-9),
        }
        row.update({k: (None if np.isnan(v) else float(v)) for k, v in zip(RECORDED, means)})
        self.rows.append(row)

    def warn(self, message: str) -> None:
        """A warning a user must see: logged now, kept in summary.json, printed again where Snakemake runs."""
        log.warning("%s", message)
        self.warnings.append(message)

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
            "first_loss": self.first_loss,
            "warnings": self.warnings,
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
        # Checkpoints written before these were kept: the first row's mean loss stands in for the first step's.
        self.first_loss = state.get("first_loss", self.rows[0]["loss"] if self.rows else None)
        self.warnings = list(state.get("warnings", [])) + self.warnings

    def weights_finite(self) -> bool:
        nets = [self.model] + ([self.discriminator] if self.discriminator is not None else [])
        return bool(torch.stack([torch.isfinite(p).all() for net in nets for p in net.parameters()]).all())

    def save(self, path: Path) -> None:
        """Write ``resume.pt``, unless the weights are no longer finite: the one on disk stays the last good one."""
        if not self.weights_finite():
            kept = f"after step {self.saved_step}" if self.saved_step else "none"
            self.warn(
                f"{self.cell}: the weights after step {self.step} are not finite, so that checkpoint was not written "
                f"(the one kept: {kept})"
            )
            return
        save_torch(self.state(), path)
        self.saved_step = self.step

    def try_resume(self, path: Path) -> bool:
        if not path.exists():
            return False
        try:  # always to the CPU: a CUDA generator's set_state takes only a CPU byte tensor
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # a damaged checkpoint must not block the cell: start over, and say so at the end
            self.warn(f"{self.cell}: its checkpoint {path} is unreadable ({exc}); it trained again from step 0")
            return False
        if state.get("cell") != asdict(self.cell) or state.get("fingerprint") != self.settings.fingerprint():
            # What the weights depend on changed since it was written: starting over is what the change asks for.
            log.info("checkpoint %s belongs to other settings; starting %s from step 0", path, self.cell)
            return False
        written_on = checkpoint_device_type(state)
        if written_on != self.device.type:
            self.warn(
                f"{self.cell}: its checkpoint {path} (after step {state.get('step')}) was written on {written_on} "
                f"and this job runs on {self.device.type}, whose data order and noise are other streams; it trained "
                "again from step 0 (train a cell on one kind of device)"
            )
            return False
        try:
            self.load_state(state)
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise TrainingError(f"checkpoint {path} does not fit {self.cell} ({exc}); delete it and rerun") from exc
        self.saved_step = self.step
        log.info("resumed %s after step %d of %d", self.cell, self.step, self.total_steps)
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
            "run": self.execution.facts(self.settings.precision, self.pack_size),
            "warnings": self.warnings,
        }
        write_json(outdir / "summary.json", summary)
        return summary
