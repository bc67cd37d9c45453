"""Train (model, strength, seed) cells into ``results/models/{model}/{strength}/seed{seed}/``: one cell alone, or
the seeds of one (model, strength) together as a pack (dislab.training.pack); each cell gets the same files either
way (dislab.training.cell). A pack of one would be the single-cell step bit for bit, but the single-cell step can
also run channels-last, which a pack's grouped convolutions cannot (docs/performance.md), so one cell trains alone.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from dislab.atomic import remove_temporaries
from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.loop import run_steps
from dislab.training.pack import PackTrainer
from dislab.training.precision import warn_if_emulated
from dislab.training.settings import TrainSettings

log = logging.getLogger(__name__)


def train(
    packed,
    cells: list[Cell],
    settings: TrainSettings,
    outdirs: list,
    execution: Execution,
    checkpoint_every: int | None = None,
    progress: bool = True,
    pack: bool | None = None,
) -> list[dict]:
    """Train ``cells`` (one, or seeds of one model and strength), resuming from their ``resume.pt``; write each
    cell's ``model.pt``, ``train_log.csv`` and ``summary.json`` into its directory of ``outdirs``; return the
    summaries. ``checkpoint_every``: steps between checkpoints (None: none before the end); ``pack``: train them
    as a pack (default: when there are several)."""
    outdirs = [Path(d) for d in outdirs]
    if len(outdirs) != len(cells):
        raise TrainingError(f"train got {len(cells)} cells but {len(outdirs)} output directories; give one each")
    for d in outdirs:
        d.mkdir(parents=True, exist_ok=True)
    checkpoints = [d / "resume.pt" for d in outdirs]
    started = time.perf_counter()
    if not (len(cells) > 1 if pack is None else pack):
        (cell,) = cells
        trainer, bar, what = CellTrainer(packed, cell, settings, execution), str(cell), str(cell)
    else:
        trainer, bar = PackTrainer(packed, cells, settings, execution), f"pack of {len(cells)}"
        what = f"a pack of {len(cells)} cells ({', '.join(map(str, cells))})"
    per_epoch = trainer.members[0].sampler.steps_per_epoch
    warn_if_emulated(settings.precision, execution.device)
    log.info("training %s for %d steps (%d per epoch)", what, trainer.total_steps, per_epoch)
    run_steps(trainer, checkpoints, bar, checkpoint_every or trainer.total_steps, progress=progress)
    wall = time.perf_counter() - started
    summaries = []
    for member, outdir, checkpoint in zip(trainer.members, outdirs, checkpoints):
        summaries.append(member.write_outputs(outdir, wall))
        log.info("finished %s: %s", member.cell, summaries[-1]["final"])
        with contextlib.suppress(FileNotFoundError):
            checkpoint.unlink()
        remove_temporaries(checkpoint, ".pt")  # of a checkpoint whose writing a kill cut short
    return summaries
