"""The grid's cells: (model, strength, seed), their path components, and the cell a result file belongs to.

Light on purpose (no torch): the Snakefile imports it on every start-up, on every cluster job too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Every model of dislab.models.objectives.REGISTRY (tests/test_objectives.py checks that the two agree).
MODEL_NAMES = ("betavae", "factorvae", "btcvae", "dipvae", "annealedvae", "infovae")
# The models whose objective trains a discriminator beside the VAE (model.discriminator applies to them alone).
DISCRIMINATOR_MODELS = ("factorvae",)
# How figures and tables name each model.
MODEL_LABELS = {
    "betavae": "β-VAE",
    "factorvae": "FactorVAE",
    "btcvae": "β-TCVAE",
    "dipvae": "DIP-VAE",
    "annealedvae": "annealed β-VAE",
    "infovae": "InfoVAE",
}


def strength_tag(strength: float) -> str:
    """The path component of a strength: 3 -> '3', 0.5 -> '0.5'."""
    return f"{float(strength):g}"


@dataclass(frozen=True)
class Cell:
    model: str
    strength: float
    seed: int

    def __str__(self):
        return f"{self.model}/{strength_tag(self.strength)}/seed{self.seed}"


def cell_from_path(path) -> Cell:
    """The cell of ``.../{model}/{strength}/seed{seed}/<file>`` or of ``.../{model}/{strength}/seed{seed}.json``."""
    path = Path(path)
    seed_part = path.parent if path.parent.name.startswith("seed") else path.with_suffix("")
    return Cell(seed_part.parent.parent.name, float(seed_part.parent.name), int(seed_part.name.removeprefix("seed")))
