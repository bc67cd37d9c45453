"""The run's setup against the thesis': every difference that keeps a number from comparing, by what it affects.

The thesis' setup is ``config/thesis.yaml`` (the schema's defaults applied) on the official dSprites file. Its
training length has two readings (config/README.md): 30 epochs of 737,280 / 64 = 11,520 steps, 345,600 steps a cell
(what config/thesis.yaml trains), or the text's own count, "742 iterations per epoch, with 30 epochs being 22 260
training iterations"; a run of either length trains the thesis' length, and the page names which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from dislab.cells import DISCRIMINATOR_MODELS, MODEL_LABELS, strength_tag
from dislab.data.grid import FactorGrid
from dislab.training.settings import TrainSettings

TEXT_STEPS = (
    22_260  # "742 iterations per epoch, with 30 epochs being 22 260 training iterations" (§5.1, Model Setup, p. 47)
)
MODEL_KEYS = ("latent_dim", "batch_size", "learning_rate", "adam_betas")


def total_steps(config: dict, images: int) -> int:
    """The steps a cell of ``config`` trains on a dataset of ``images``, as the trainer counts them."""
    return TrainSettings.from_config(config).total_steps(images // config["model"]["batch_size"])


SETUP_KEYS = ("model", "training", "models", "seeds", "metrics", "downstream")


def setup_of(config: dict) -> dict:
    """What of a config decides whether a number compares with the thesis': its sections but the checkpoint cadence
    (which changes no number), the active-latent threshold and the official file's checksums."""
    chosen = {key: config[key] for key in SETUP_KEYS}
    chosen["training"] = {k: v for k, v in config["training"].items() if k != "checkpoint_every"}
    chosen["active_kl_threshold"] = config["figures"]["active_kl_threshold"]
    chosen["dataset"] = {k: config["dataset"][k] for k in ("sha256", "npz_md5")}
    return chosen


def configured_images(config: dict) -> int:
    """How many images the config's data has: the renderer's grid, else the full dSprites grid."""
    dataset = config["dataset"]
    if dataset["source"] == "synthetic":
        return FactorGrid.from_mapping(dataset["synthetic_grid"]).num_images
    return FactorGrid().num_images


def smoke_reasons(config: dict, images: int) -> list[str]:
    """Why a run of ``config`` on ``images`` images is a smoke run, far from the thesis' setup (none: it is not): it
    trains a cell on less than one pass over the data, or on a reduced grid of images."""
    reasons = []
    per_epoch = images // config["model"]["batch_size"]
    steps = total_steps(config, images)
    if steps < per_epoch:
        reasons.append(f"{steps:,} training steps a cell, less than one pass over the data ({per_epoch:,})")
    if images < FactorGrid().num_images:
        reasons.append(f"a reduced grid of {images:,} images, not dSprites' {FactorGrid().num_images:,}")
    return reasons


def smoke_banner(reasons: list[str]) -> str:
    """The line a smoke run's pages open with (empty otherwise)."""
    if not reasons:
        return ""
    return "A smoke run: its numbers are not meant to resemble the thesis' (" + "; ".join(reasons) + ")."


def _differs(run: dict, thesis: dict, keys) -> list[str]:
    return [f"{key} {run.get(key)!r} (thesis {thesis.get(key)!r})" for key in keys if run.get(key) != thesis.get(key)]


def strengths(values) -> str:
    return "none" if not values else " ".join(strength_tag(v) for v in values)


@dataclass
class Setup:
    """``run`` and ``thesis``: the config sections that decide whether a number compares (model, training, models,
    seeds, metrics, downstream, and the active-latent threshold and dataset checksums); ``dataset``: the dataset
    check's summary; ``data_md5``: the md5 of an NPZ the run read (the official NPZ is known by its md5)."""

    run: dict
    thesis: dict
    dataset: dict
    data_md5: str | None = None
    full_grid: int = field(default_factory=lambda: FactorGrid().num_images)

    # -- the training length ------------------------------------------------------------------------------------
    @cached_property
    def steps(self) -> int:
        return total_steps(self.run, self.dataset["images"])

    @cached_property
    def thesis_steps(self) -> int:
        return total_steps(self.thesis, self.full_grid)

    @cached_property
    def length_reading(self) -> str:
        """Which reading of the thesis' training length the run follows, in words."""
        if self.steps == self.thesis_steps:
            return (
                f"{self.steps:,} steps a cell: the thesis' 30 epochs of 737,280 / 64 = 11,520 steps, the reading "
                f"dislab follows (the text's own count, {TEXT_STEPS:,}, is the other)"
            )
        if self.steps == TEXT_STEPS:
            return (
                f"{self.steps:,} steps a cell: the thesis' text's own count (742 iterations per epoch, 30 epochs); "
                f"30 epochs of the 737,280 images at batch 64 would be {self.thesis_steps:,}"
            )
        return (
            f"{self.steps:,} steps a cell: neither reading of the thesis' length, {self.thesis_steps:,} (30 epochs of "
            f"11,520 steps, the reading dislab follows) nor {TEXT_STEPS:,} (the text's count)"
        )

    # -- what differs, by what it affects -------------------------------------------------------------------------
    @cached_property
    def data(self) -> list[str]:
        """The data the run read, against the official file config/thesis.yaml names."""
        if self.dataset["source"] not in ("download", "path"):
            return [f"the renderer's stand-in ({self.dataset['images']:,} images), not the official dSprites"]
        official = self.thesis["dataset"]
        if str(self.dataset["file"]).endswith(".npz"):
            if self.data_md5 != official["npz_md5"]:
                return [f"an NPZ with md5 {self.data_md5}, not the official release's {official['npz_md5']}"]
        elif self.dataset["sha256"] != official["sha256"]:
            return [
                f"a dSprites file with sha256 {self.dataset['sha256'][:12]}…, not the official "
                f"{official['sha256'][:12]}…"
            ]
        return []

    @cached_property
    def everything(self) -> list[str]:
        """Differences that affect every number."""
        reasons = list(self.data)
        if self.steps not in (self.thesis_steps, TEXT_STEPS):
            reasons.append(
                f"{self.steps:,} training steps a cell, not the thesis' {self.thesis_steps:,} (30 epochs) nor "
                f"{TEXT_STEPS:,} (its text's count)"
            )
        reasons += [f"model.{d}" for d in _differs(self.run["model"], self.thesis["model"], MODEL_KEYS)]
        if self.run["training"]["precision"] != self.thesis["training"]["precision"]:
            reasons.append(f"precision {self.run['training']['precision']} (thesis float32)")
        return reasons

    def model(self, model: str) -> list[str]:
        """Differences in ``model``'s own setup (its options; FactorVAE's discriminator); for "all", those of every
        model of the pool."""
        if model == "all":
            return [r for m in sorted(set(self.run["models"]) | set(self.thesis["models"])) for r in self.model(m)]
        run, thesis = self.run["models"].get(model, {}), self.thesis["models"].get(model, {})
        options = sorted((set(run) | set(thesis)) - {"strengths"})
        both = model in self.run["models"] and model in self.thesis["models"]  # others: "models beyond the thesis'"
        reasons = [f"models.{model}.{d}" for d in _differs(run, thesis, options)] if both else []
        if model in DISCRIMINATOR_MODELS and model in self.run["models"]:
            run_d, thesis_d = self.run["model"].get("discriminator", {}), self.thesis["model"].get("discriminator", {})
            reasons += [
                f"model.discriminator.{d}" for d in _differs(run_d, thesis_d, sorted(set(run_d) | set(thesis_d)))
            ]
        return reasons

    def metric(self, name: str) -> list[str]:
        """Differences in the sizes behind metric ``name`` (``unsupervised``: the ELBO, its parts, active latents)."""
        run, thesis = self.run["metrics"][name], self.thesis["metrics"][name]
        return [f"metrics.{name}.{d}" for d in _differs(run, thesis, sorted(set(run) | set(thesis)))]

    @cached_property
    def active_threshold(self) -> list[str]:
        run, thesis = self.run["active_kl_threshold"], self.thesis["active_kl_threshold"]
        return [] if run == thesis else [f"an active-latent threshold of {run} nats (config/thesis.yaml: {thesis})"]

    def grid(self, model: str) -> list[str]:
        if model == "all":
            return self.cells
        run = self.run["models"].get(model, {}).get("strengths")
        thesis = self.thesis["models"].get(model, {}).get("strengths")
        if run == thesis:
            return []
        return [f"another grid of {MODEL_LABELS.get(model, model)} ({strengths(run)}; thesis {strengths(thesis)})"]

    @cached_property
    def cells(self) -> list[str]:
        """Differences in the grid of cells (what pooled numbers, the rank correlations, are taken over)."""
        reasons = [r for model in self.thesis["models"] for r in self.grid(model)]
        extra = sorted(set(self.run["models"]) - set(self.thesis["models"]))
        if extra:
            reasons.append("models beyond the thesis': " + ", ".join(extra))
        if len(self.run["seeds"]) != len(self.thesis["seeds"]):
            n = len(self.run["seeds"])
            reasons.append(f"{n} seed{'s' if n != 1 else ''} a cell, not {len(self.thesis['seeds'])}")
        return reasons

    @cached_property
    def downstream(self) -> list[str]:
        run, thesis = self.run["downstream"], self.thesis["downstream"]
        reasons = [f"downstream.{d}" for d in _differs(run, thesis, ["classifier", "num_test"])]
        low, high = run["sample_efficiency"]
        if [low, high] != thesis["sample_efficiency"]:
            reasons.append(f"sample efficiency as accuracy({low:,}) / accuracy({high:,}), not the thesis' 100 / 10,000")
        return reasons

    # -- a smoke run -------------------------------------------------------------------------------------------------
    @cached_property
    def banner(self) -> str:
        """The line a smoke run's pages open with (empty otherwise)."""
        return smoke_banner(smoke_reasons(self.run, self.dataset["images"]))
