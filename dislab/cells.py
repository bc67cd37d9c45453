"""The grid's cells: (model, strength, seed) and their path components.

Light on purpose (no torch): the Snakefile imports it on every start-up, on every cluster job too.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    def of(cls, mapping) -> Cell:
        """The cell of a mapping with its model, strength and seed (as the workflow passes them to a job)."""
        return cls(mapping["model"], float(mapping["strength"]), int(mapping["seed"]))
