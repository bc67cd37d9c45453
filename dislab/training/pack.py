"""Train several cells of one (model, strength) in one process: a pack.

One network evaluated for k cells at once would leave nothing on the table that one cell leaves idle: the k cells'
parameters are stacked along a new first dimension (``torch.func.stack_module_state``) and the step is the
single-cell step under ``torch.func.vmap`` (convolutions become grouped ones). One Adam runs over the stacked
parameters; Adam is elementwise, so that is k independent Adams.

Each cell stays its own: it owns its data order, its noise generator (drawn in the same order as when it is
trained alone), its log rows, its ``resume.pt`` and its output directory; a checkpoint written by a pack is read by
the single-cell trainer and the other way round. A pack of one is the single-cell trainer's step, bit for bit.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import torch
from torch.func import stack_module_state, vmap
from torch.utils._pytree import tree_map

from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.training import optim
from dislab.training.batches import unpack_images
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.settings import TrainSettings
from dislab.training.step import Step, compiled, step_holder, take_step

log = logging.getLogger(__name__)


def _on_meta(module: torch.nn.Module) -> torch.nn.Module:
    """A copy holding no data: the structure ``functional_call`` runs with the stacked parameters."""
    return copy.deepcopy(module).to("meta")


def _pack_of_one(fn, in_dims):
    """``vmap`` for a pack of one: the single-cell computation itself, on the one slice of each stacked input, so
    the kernels (and every bit of the result) are those of the single-cell trainer."""

    def run(*args):
        args = [a if d is None else tree_map(lambda t: t[0], a) for a, d in zip(args, in_dims)]
        return tree_map(lambda t: t.unsqueeze(0), fn(*args))

    return run


class PackTrainer:
    def __init__(self, packed, cells: list[Cell], settings: TrainSettings, execution: Execution):
        if len({(c.model, c.strength) for c in cells}) != 1 or len(set(cells)) != len(cells):
            raise TrainingError(f"a pack trains distinct seeds of one (model, strength); got {[str(c) for c in cells]}")
        if execution.channels_last:
            raise ValueError("a pack's grouped convolutions run in the default memory layout, not channels-last")
        self.settings, self.execution = settings, execution
        self.device = device = execution.device
        self.packed = torch.as_tensor(packed).to(device)  # one copy of the dataset for the whole pack
        self.members = [CellTrainer(self.packed, cell, settings, execution, pack_size=len(cells)) for cell in cells]
        self.undefined = torch.full((len(cells),), float("nan"), device=device)
        self.step_tensor = step_holder(device)
        first = self.members[0]
        self.objective, self.total_steps = first.objective, first.total_steps
        disc = _on_meta(first.discriminator) if first.discriminator is not None else None
        step = Step(self.objective, _on_meta(first.model), disc, device, settings.precision)
        self.params = self.disc_params = None
        self._stack()
        batched = vmap if len(cells) > 1 else _pack_of_one
        vae_step = batched(step.vae_loss, in_dims=(0, 0 if disc else None, 0, 0, 0, None))
        self.vae_step = compiled(vae_step, execution.compile)
        self.disc_step = (
            compiled(batched(step.discriminator_loss, in_dims=(0,) * 6), execution.compile) if disc else None
        )

    # -- stacked state <-> the members' own models and optimisers ---------------------------------------
    def _nets(self):
        """(the pack's parameters, its optimiser, each member's network and optimiser attribute) for the VAE and,
        with FactorVAE, the discriminator."""
        yield self.params, self.optimizer, "model", "optimizer"
        if self.disc_params is not None:
            yield self.disc_params, self.disc_optimizer, "discriminator", "disc_optimizer"

    def _stack(self) -> None:
        """Stack the members' parameters and optimiser states into the pack's (at the start and after resume)."""
        s, first = self.settings, self.members[0]
        self.params, _ = stack_module_state([m.model for m in self.members])
        self.optimizer = self._stacked_optimizer(self.params, "optimizer", s.learning_rate, s.adam_betas)
        if first.discriminator is not None:
            d = s.discriminator
            self.disc_params, _ = stack_module_state([m.discriminator for m in self.members])
            self.disc_optimizer = self._stacked_optimizer(
                self.disc_params, "disc_optimizer", d["learning_rate"], tuple(d["adam_betas"])
            )

    def _stacked_optimizer(self, params: dict, name: str, lr: float, betas: tuple):
        stacked = optim.optimizer(params.values(), lr, betas)
        optim.load_state(stacked, optim.stack_states([getattr(m, name) for m in self.members]))
        return stacked

    def sync(self, step: int) -> None:
        """Copy the pack's parameters and optimiser states back into each member (before a checkpoint or the
        outputs)."""
        for params, stacked, net_name, opt_name in self._nets():
            state = stacked.state_dict()["state"]
            for i, member in enumerate(self.members):
                with torch.no_grad():
                    for name, p in getattr(member, net_name).named_parameters():
                        p.copy_(params[name][i])
                optim.load_state(getattr(member, opt_name), optim.member_state(state, i))
        for member in self.members:
            member.step = step

    # -- one step (dislab.training.step) ----------------------------------------------------------------
    def train_step(self, step: int) -> torch.Tensor:
        """One step of every member; returns their recorded values, (k, len(RECORDED)), NaN = not defined."""
        return take_step(self, step)

    def batches(self, step: int, stream: int = 0) -> torch.Tensor:
        """Every member's own batch, (k, batch, 1, 64, 64), in one gather."""
        indices = torch.stack([m.sampler.indices(step, stream) for m in self.members])
        images = unpack_images(self.packed[indices.reshape(-1)])
        return images.reshape(*indices.shape, *images.shape[1:])

    def draws_for_loss(self, x: torch.Tensor):
        drawn = [m.draw_for_loss(x.shape[1]) for m in self.members]
        return torch.stack([n for n, _ in drawn]), {k: torch.stack([d[k] for _, d in drawn]) for k in drawn[0][1]}

    def draws_for_discriminator(self, x2: torch.Tensor):
        drawn = [m.draw_for_discriminator(x2.shape[1]) for m in self.members]
        return tuple(torch.stack(t) for t in zip(*drawn))

    # -- resume -----------------------------------------------------------------------------------------
    def resume(self, checkpoints: list[Path]) -> int:
        resumed = [m.try_resume(path) for m, path in zip(self.members, checkpoints)]
        steps = {m.step for m in self.members}
        if not any(resumed):
            return 0
        if all(resumed) and len(steps) == 1:
            self._stack()
            return steps.pop()
        # Only when killed while writing the pack's checkpoints: the members stand at different steps.
        where = ", ".join(f"{m.cell}: {f'after step {m.step}' if r else 'none'}" for m, r in zip(self.members, resumed))
        fresh = [CellTrainer(self.packed, m.cell, self.settings, self.execution, m.pack_size) for m in self.members]
        for member, old in zip(fresh, self.members):
            member.warnings = old.warnings
            member.warn(
                f"{member.cell}: the checkpoints of its pack stood at different steps ({where}); every cell of the "
                "pack trained again from step 0"
            )
        self.members = fresh
        self._stack()
        return 0
