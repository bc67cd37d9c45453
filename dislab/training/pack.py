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
from torch.func import functional_call, stack_module_state, vmap
from torch.utils._pytree import tree_map

from dislab.cells import Cell
from dislab.errors import TrainingError
from dislab.training import kit
from dislab.training.batches import unpack_images
from dislab.training.cell import CellTrainer
from dislab.training.execution import Execution
from dislab.training.precision import autocast
from dislab.training.settings import TrainSettings

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
        self.step_tensor = kit.step_holder(device)
        first = self.members[0]
        self.objective, self.total_steps = first.objective, first.total_steps
        self.vae = _on_meta(first.model)
        self.disc = _on_meta(first.discriminator) if first.discriminator is not None else None
        self.params = self.disc_params = None
        self._stack()
        batched = vmap if len(cells) > 1 else _pack_of_one
        self._vae_step = batched(self._cell_loss, in_dims=(0, 0 if self.disc else None, 0, 0, 0, None))
        self._disc_step = batched(self._cell_disc_loss, in_dims=(0,) * 6) if self.disc else None
        self._vae_step = kit.compiled(self._vae_step, execution.compile)
        self._disc_step = kit.compiled(self._disc_step, execution.compile) if self.disc else None

    # -- stacked state <-> the members' own models and optimisers ---------------------------------------
    def _stack(self) -> None:
        """Stack the members' parameters and Adam states into the pack's (called at the start and after resume)."""
        s = self.settings
        self.params, _ = stack_module_state([m.model for m in self.members])
        self.optimizer = self._stacked_adam(
            self.params, [m.optimizer for m in self.members], s.learning_rate, s.adam_betas
        )
        if self.disc:
            d = s.discriminator
            self.disc_params, _ = stack_module_state([m.discriminator for m in self.members])
            self.disc_optimizer = self._stacked_adam(
                self.disc_params, [m.disc_optimizer for m in self.members], d["learning_rate"], tuple(d["adam_betas"])
            )

    @staticmethod
    def _stacked_adam(params: dict, optimizers: list, lr: float, betas: tuple) -> torch.optim.Adam:
        optimizer = kit.adam(params.values(), lr, betas)
        states = [o.state_dict()["state"] for o in optimizers]
        if states[0]:  # resumed: stack the members' moments (they share the step count)
            stacked = {}
            for index in states[0]:
                moments = {k: torch.stack([st[index][k] for st in states]) for k in ("exp_avg", "exp_avg_sq")}
                stacked[index] = {"step": states[0][index]["step"].clone(), **moments}
            optimizer.load_state_dict({"state": stacked, "param_groups": optimizer.state_dict()["param_groups"]})
        return optimizer

    def sync(self, step: int) -> None:
        """Copy the pack's parameters and Adam states back into each member (before a checkpoint or the outputs)."""
        pairs = [(self.params, self.optimizer, "model", "optimizer")]
        if self.disc:
            pairs.append((self.disc_params, self.disc_optimizer, "discriminator", "disc_optimizer"))
        for params, stacked, net_name, opt_name in pairs:
            state = stacked.state_dict()["state"]
            for i, member in enumerate(self.members):
                net, opt = getattr(member, net_name), getattr(member, opt_name)
                with torch.no_grad():
                    for name, p in net.named_parameters():
                        p.copy_(params[name][i])
                own = opt.state_dict()
                own["state"] = {
                    index: {
                        "step": st["step"].clone(),
                        "exp_avg": st["exp_avg"][i].clone(),
                        "exp_avg_sq": st["exp_avg_sq"][i].clone(),
                    }
                    for index, st in state.items()
                }
                opt.load_state_dict(own)
        for member in self.members:
            member.step = step

    # -- one step ---------------------------------------------------------------------------------------
    def _cell_loss(self, params, disc_params, x, noise, draws, step):
        with autocast(self.device, self.execution.precision):
            out = functional_call(self.vae, params, (x, noise))
        out = tuple(t.float() for t in out)
        disc = None if disc_params is None else self._discriminator_fn(disc_params)
        parts = self.objective.loss(out, x, step, draws, discriminator=disc)
        return parts, out[3]

    def _cell_disc_loss(self, params, disc_params, x2, z, z2_noise, uniform):
        encoder = {k.removeprefix("encoder."): v.detach() for k, v in params.items() if k.startswith("encoder.")}
        z2 = kit.second_batch_latents(
            lambda x: functional_call(self.vae.encoder, encoder, (x,)),
            x2,
            z2_noise,
            self.device,
            self.execution.precision,
        )
        discriminator = self._discriminator_fn(disc_params)
        return self.objective.discriminator_loss(z, z2, uniform, discriminator=discriminator)

    def _discriminator_fn(self, disc_params: dict):
        return kit.discriminator_fn(self.disc, disc_params, self.device, self.execution.precision)

    def batches(self, step: int, stream: int = 0) -> torch.Tensor:
        """Every member's own batch, (k, batch, 1, 64, 64), in one gather."""
        indices = torch.stack([m.sampler.indices(step, stream) for m in self.members])
        images = unpack_images(self.packed[indices.reshape(-1)])
        return images.reshape(*indices.shape, *images.shape[1:])

    def train_step(self, step: int) -> torch.Tensor:
        """One step of every member; returns their recorded values, (k, len(RECORDED)), NaN = not defined."""
        x = self.batches(step)
        drawn = [m.draw_for_loss(x.shape[1]) for m in self.members]
        noise = torch.stack([n for n, _ in drawn])
        draws = {k: torch.stack([d[k] for _, d in drawn]) for k in drawn[0][1]}
        disc_params = kit.detached(self.disc_params) if self.disc else None  # a constant in the VAE's loss
        parts, z = self._vae_step(self.params, disc_params, x, noise, draws, self.step_tensor.fill_(step))
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].sum().backward()  # the cells are independent: each gets its own gradient
        self.optimizer.step()
        if self.disc:
            x2 = self.batches(step, stream=1)
            drawn = [m.draw_for_discriminator(x2.shape[1]) for m in self.members]
            z2_noise, uniform = (torch.stack(t) for t in zip(*drawn))
            parts["disc_loss"] = self._disc_step(self.params, self.disc_params, x2, z.detach(), z2_noise, uniform)
            self.disc_optimizer.zero_grad(set_to_none=True)
            parts["disc_loss"].sum().backward()
            self.disc_optimizer.step()
        return torch.stack([parts[k].detach() if k in parts else self.undefined for k in kit.RECORDED], dim=1)

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
        log.warning(
            "the checkpoints of this pack are at different steps (%s); starting every cell from step 0",
            ", ".join(f"{m.cell}: {m.step if r else 'none'}" for m, r in zip(self.members, resumed)),
        )
        fresh = [CellTrainer(self.packed, m.cell, self.settings, self.execution, m.pack_size) for m in self.members]
        self.members = fresh
        self._stack()
        return 0
