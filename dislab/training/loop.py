"""The training loop, one for a single cell and for a pack: the step, the log rows, the checkpoints, the progress.

A trainer gives it ``settings``, ``total_steps``, ``members`` (the cells' own state: dislab.training.cell),
``resume(checkpoints)`` (the step to start from), ``train_step(step)`` (the members' recorded values, NaN where not
defined) and ``sync(step)`` (bring the members' models and optimisers up to date, before they are saved).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from tqdm import tqdm

from dislab.training.kit import RECORDED


def run_steps(trainer, checkpoints: list[Path], desc: str, progress: bool = True) -> None:
    """Train from the checkpoints (or from step 0) to the last step; every ``log_every`` steps, every checkpoint and
    at the end, one log row per member (a NaN or infinite loss stops the job there), and every ``checkpoint_every``
    steps each member's ``resume.pt``."""
    s, total = trainer.settings, trainer.total_steps
    start = trainer.resume(checkpoints)
    bar = tqdm(total=total, initial=start, desc=desc, unit="step", disable=not progress, mininterval=10)
    buffer, first, started = [], start, time.perf_counter()
    try:  # the bar's last line goes out before an error's message, not after it
        for step in range(start, total):
            buffer.append(trainer.train_step(step))
            bar.update()
            done = step + 1
            checkpoint = done % s.checkpoint_every == 0 and done < total
            if done % s.log_every == 0 or checkpoint or done == total:
                values = torch.stack(buffer, dim=-2).reshape(len(trainer.members), len(buffer), len(RECORDED))
                seconds = time.perf_counter() - started
                for member, member_values in zip(trainer.members, values):
                    member.flush(member_values, first, seconds)
                buffer, first, started = [], done, time.perf_counter()
                if checkpoint:
                    trainer.sync(done)
                    for member, path in zip(trainer.members, checkpoints):
                        member.save(path)
    finally:
        bar.close()
    trainer.sync(total)
