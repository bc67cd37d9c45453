"""The optimiser of every training step, and how its state moves between one cell and a pack of cells.

Changing the optimiser is an edit of this file alone: ``optimizer`` builds it; ``stack_states`` and ``member_state``
carry its per-parameter state between the cells' own optimisers (what ``resume.pt`` holds) and the pack's one
optimiser over stacked parameters (dislab.training.pack), whatever the state's keys are.
"""

from __future__ import annotations

import torch


def optimizer(params, lr: float, betas: tuple) -> torch.optim.Optimizer:
    """Adam with its fused kernel: the same update (to float rounding) in one pass over the weights."""
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)


def _per_element(value) -> bool:
    """A state entry kept for every element of its parameter (Adam's moments), as opposed to one shared by all
    (Adam's step count, a 0-d tensor)."""
    return torch.is_tensor(value) and value.dim() > 0


def stack_states(optimizers: list[torch.optim.Optimizer]) -> dict:
    """The ``state`` of one optimiser over the members' stacked parameters, from the members' own optimisers:
    per-element entries stacked along a new first dimension, shared ones (the step count) taken once: the members
    of a pack always stand at the same step. Empty when the members have not stepped yet."""
    states = [o.state_dict()["state"] for o in optimizers]
    stacked = {}
    for index, first in states[0].items():
        stacked[index] = {
            key: torch.stack([s[index][key] for s in states]) if _per_element(value) else _copy(value)
            for key, value in first.items()
        }
    return stacked


def member_state(state: dict, member: int) -> dict:
    """One member's share of a stacked optimiser's ``state`` (the inverse of ``stack_states``)."""
    return {
        index: {key: value[member].clone() if _per_element(value) else _copy(value) for key, value in entry.items()}
        for index, entry in state.items()
    }


def load_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Put ``state`` (as ``stack_states`` or ``member_state`` give it) into ``optimizer``, keeping its settings."""
    if state:
        optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def _copy(value):
    return value.clone() if torch.is_tensor(value) else value
