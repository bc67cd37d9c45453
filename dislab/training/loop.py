"""The training loop, one for a single cell and for a pack: the steps, the log rows, divergence, the checkpoints,
interruptions and the progress bar.

A trainer gives it ``settings``, ``total_steps``, ``members`` (the cells' own state: dislab.training.cell),
``resume(checkpoints)`` (the step to start from), ``train_step(step)`` (the members' recorded values, NaN where not
defined) and ``sync(step)`` (bring the members' models and optimisers up to date, before they are saved).

Steps are counted from 1 in every message: "step N" is the N-th optimisation step, and the checkpoint "after step
N" holds the weights it left.

Divergence is judged here, for a cell and a pack alike, on the terms each cell's objective defines
(``Objective.recorded``): a cell diverges at the first step where one of them is NaN or infinite, or where its loss
is more than ``LOSS_BOUND`` times the size of its first step's loss (the loss at initialisation, which no learning
rate has touched yet); or when its weights are not finite at the end. Training stops there and writes no
``model.pt`` nor ``summary.json``. Every step's values are checked each time a log row is written, and one is
written before every checkpoint, so a checkpoint is written only when every step before it passed: the
``resume.pt`` a diverged cell keeps logs finite losses within that bound.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from dislab.errors import Interrupted, TrainingError
from dislab.interrupts import exit_status, interruption
from dislab.progress import progress_bar
from dislab.training.step import RECORDED

LOSS_BOUND = 1000.0  # a healthy run's loss stays within a few times its value at initialisation


def run_steps(trainer, checkpoints: list[Path], desc: str, checkpoint_every: int, progress: bool = True) -> None:
    """Train from the checkpoints (or from step 0) to the last step; every ``log_every`` steps, every checkpoint and
    at the end, one log row per member (after the divergence check), and every ``checkpoint_every`` steps each
    member's ``resume.pt``. Ctrl-C or SIGTERM stops it between steps as an ``Interrupted``."""
    s, total, members = trainer.settings, trainer.total_steps, trainer.members
    start = trainer.resume(checkpoints)
    members = trainer.members  # a pack whose checkpoints disagreed starts over with fresh members
    bar = progress_bar(total=total, initial=start, desc=desc, unit="step", disable=not progress, mininterval=10)
    buffer, first, started, step = [], start, time.perf_counter(), start
    try:  # the bar's last line goes out before an error's message, not after it
        for step in range(start, total):
            buffer.append(trainer.train_step(step))
            bar.update()
            done = step + 1
            checkpoint = done % checkpoint_every == 0 and done < total
            if done % s.log_every == 0 or checkpoint or done == total:
                values = torch.stack(buffer, dim=-2).reshape(len(members), len(buffer), len(RECORDED))
                values = values.cpu().numpy().astype(np.float64)
                seconds = time.perf_counter() - started
                for member, member_values in zip(members, values):
                    check(member, member_values, first, total, len(members))
                    member.flush(member_values, first, seconds)
                buffer, first, started = [], done, time.perf_counter()
                if checkpoint:
                    trainer.sync(done)
                    for member, path in zip(members, checkpoints):
                        member.save(path)
    except KeyboardInterrupt as exc:
        kept = {m.saved_step for m in members}
        resumes = (
            f"after step {kept.pop()}" if len(kept) == 1 and None not in kept else "from step 0 (no checkpoint yet)"
        )
        raise Interrupted(
            f"{desc}: {interruption(exc)} during step {step + 1} of {total}; a rerun resumes {resumes}",
            status=exit_status(exc),
        ) from None
    finally:
        bar.close()
    trainer.sync(total)
    for member in members:
        if not member.weights_finite():
            raise diverged(member, total, total, "its weights are not finite after the last step", len(members))


def check(member, values: np.ndarray, first: int, total: int, pack_size: int = 1) -> None:
    """Stop at the first step of ``values`` (steps ``first + 1`` ...) where ``member`` diverged (module docstring)."""
    columns = [RECORDED.index(k) for k in member.objective.recorded]
    loss = values[:, RECORDED.index("loss")]
    if member.first_loss is None and first == 0:
        member.first_loss = float(loss[0])
    scale = member.first_loss
    bound = LOSS_BOUND * abs(scale) if scale is not None and np.isfinite(scale) else np.inf
    not_finite = ~np.isfinite(values[:, columns]).all(axis=1)
    bad = not_finite | (np.abs(np.nan_to_num(loss, nan=0.0)) > bound)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    if not_finite[i]:
        terms = [k for k, v in zip(member.objective.recorded, values[i, columns]) if not np.isfinite(v)]
        what = ", ".join(f"its {k} was {values[i, RECORDED.index(k)]}" for k in terms)
    else:
        what = f"its loss was {loss[i]:.3g}, more than {LOSS_BOUND:,.0f} times its first step's {member.first_loss:.4g}"
    raise diverged(member, first + i + 1, total, what, pack_size)


def diverged(member, at: int, total: int, what: str, pack_size: int) -> TrainingError:
    kept = (
        f"resume.pt keeps the checkpoint after step {member.saved_step}, whose logged losses are all finite and within "
        f"{LOSS_BOUND:,.0f} times the first step's (a rerun resumes there and diverges again)"
        if member.saved_step
        else "no checkpoint had been written"
    )
    pack = f" The pack of {pack_size} stopped with it; its other cells keep their checkpoints." if pack_size > 1 else ""
    return TrainingError(
        f"{member.cell} diverged at step {at} of {total}: {what}. Training stopped without writing model.pt; {kept}."
        f"{pack} Lower the learning rate or the strength (either starts the cell over), or check the data."
    )
