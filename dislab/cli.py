"""The entry points of the workflow's rules: ``python -m dislab COMMAND --job JSON``.

A rule declares its input, output and params once, by name (workflow/rules/common.smk: ``job_params``); Snakemake
hands them over as one JSON job, and the command reads them by those names. A cell travels as a cell (model,
strength, seed), never parsed back out of a path.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass

from dislab.allocator import keep_freed_memory
from dislab.atomic import disk_full, is_disk_full
from dislab.cells import Cell
from dislab.errors import DislabError

log = logging.getLogger("dislab")


class Part(dict):
    """One part of a job (its input, output or params) by name; a name the job lacks is a clear error."""

    def __init__(self, kind: str, values: dict):
        super().__init__(values)
        self.kind = kind

    def __missing__(self, name):
        raise DislabError(
            f"the job has no {self.kind} named {name!r} (it has {', '.join(sorted(self)) or 'none'}): the rule and "
            "the dislab package it runs do not match; run the workflow of this checkout"
        )


def as_list(value) -> list:
    return list(value) if isinstance(value, list) else [value]


@dataclass
class Job:
    """What the rule gives its command: input and output files and params by name, threads, resources."""

    input: Part
    output: Part
    params: Part
    threads: int
    resources: dict

    @classmethod
    def from_json(cls, text: str) -> Job:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"--job is not JSON ({exc})") from None
        if not isinstance(spec, dict):
            raise argparse.ArgumentTypeError("--job is not a JSON object of input, output, params, threads, resources")
        return cls(
            Part("input", spec.get("input", {})),
            Part("output", spec.get("output", {})),
            Part("params", spec.get("params", {})),
            spec.get("threads", 0),
            spec.get("resources", {}),
        )

    def cells(self, files: str, cells: str = "cells") -> list[tuple[Cell, str]]:
        """The (cell, file) pairs of the input ``files``, whose cells are the param ``cells``, in the same order."""
        paths, shown = as_list(self.input[files]), self.params[cells]
        if len(paths) != len(shown):
            raise DislabError(f"the job's input {files!r} has {len(paths)} files but its {cells!r} {len(shown)} cells")
        return [(Cell.of(cell), path) for cell, path in zip(shown, paths)]


def _threads(n: int) -> int:
    """Use n torch threads (0: torch's default); the number of parallel model fits to run."""
    import torch

    if n:
        torch.set_num_threads(n)
    return max(n, 1)


def cmd_download(job: Job):
    """download the official dSprites HDF5 (sha256-checked)"""
    from dislab.data.download import download

    ds = job.params["dataset"]
    download(ds["url"], job.output["hdf5"], sha256=ds["sha256"], size=ds["size"])
    log.info("downloaded and verified %s", job.output["hdf5"])


def cmd_render(job: Job):
    """render the offline dSprites stand-in into the official HDF5 layout"""
    from dislab.data.grid import FactorGrid
    from dislab.data.synthetic import write_synthetic_hdf5

    grid = FactorGrid.from_mapping(job.params["grid"])
    stats = write_synthetic_hdf5(job.output["hdf5"], grid, workers=job.threads or None)
    log.info("rendered %d images into %s in %.1f s", stats["images"], job.output["hdf5"], stats["seconds"])


def cmd_check_dataset(job: Job):
    """check a dSprites file's checksum and layout; write a summary"""
    from dislab.atomic import write_json
    from dislab.data.check import check_dataset

    summary = check_dataset(job.input["hdf5"], job.params["dataset"])
    write_json(job.output["summary"], summary)
    log.info("dataset ok: %s", summary)


def cmd_figure_dataset(job: Job):
    """Figure 5.1: random images and the mean image"""
    from dislab.data.loader import DSprites
    from dislab.figures.dataset import figure_dataset

    figure_dataset(DSprites.load(job.input["data"]), job.output["png"], seed=job.params["seed"])


def cmd_train(job: Job):
    """train (model, strength, seed) cells, resuming from their checkpoints; several seeds train as one pack"""
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings

    p = job.params
    cells = [Cell.of(cell) for cell in p["cells"]]
    outdirs = [os.path.dirname(path) for path in as_list(job.output["model"])]
    settings = TrainSettings.from_config(p["settings"], checkpoint_every=job.resources.get("checkpoint_every"))
    single = len(cells) == 1
    # Before anything slow: a job without its GPU stops within seconds.
    execution = Execution.build(p["device"], settings.precision, p["channels_last"] and single, p["compile"])
    log.info("run: %s", execution.describe(len(cells)))
    if p["channels_last"] and not single:
        log.info("channels-last applies to one cell at a time; this pack of %d runs in the default layout", len(cells))
    _threads(job.threads)
    from dislab.data.loader import DSprites
    from dislab.training.trainer import train

    train(DSprites.load(job.input["data"]).packed, cells, settings, outdirs, execution)


def _title(cell: dict) -> str:
    from dislab.figures.common import cell_title

    cell = Cell.of(cell)
    return cell_title(cell.model, cell.strength, cell.seed)


def cmd_figure_prior_samples(job: Job):
    """Figure 5.2: decoded prior samples and their mean"""
    from dislab.figures.generation import figure_prior_samples
    from dislab.models.checkpoint import load_vae

    p = job.params
    model = load_vae(job.input["model"])
    figure_prior_samples(model, job.output["png"], p["num_samples"], p["seed"], _title(p["cell"]))


def cmd_figure_reconstructions(job: Job):
    """Figure 5.3: inputs, reconstructions, differences"""
    from dislab.data.loader import DSprites
    from dislab.figures.generation import figure_reconstructions
    from dislab.models.checkpoint import load_vae

    p = job.params
    data, model = DSprites.load(job.input["data"]), load_vae(job.input["model"])
    figure_reconstructions(data, model, job.output["png"], p["num_images"], p["seed"], _title(p["cell"]))


def cmd_figure_reconstruction_per_epoch(job: Job):
    """Figure 5.4: reconstruction error per epoch over seeds"""
    from dislab.figures.training import figure_reconstruction_per_epoch

    figure_reconstruction_per_epoch(job.cells("logs"), job.output["png"])


def cmd_figure_objective_per_beta(job: Job):
    """Figure 5.7: total, reconstruction and KL per epoch for each beta"""
    from dislab.figures.training import figure_objective_per_beta

    figure_objective_per_beta(job.cells("logs"), job.output["png"])


def cmd_evaluate(job: Job):
    """every metric and the unsupervised scores of one trained cell"""
    from dislab.atomic import write_json
    from dislab.data.loader import DSprites
    from dislab.evaluation.evaluate import evaluate_model
    from dislab.models.checkpoint import load_vae

    n_jobs = _threads(job.threads)
    model, data = load_vae(job.input["model"]), DSprites.load(job.input["data"])
    write_json(job.output["metrics"], evaluate_model(model, data, job.params["settings"], n_jobs=n_jobs))


def cmd_downstream(job: Job):
    """the downstream GBT task of one trained cell"""
    import numpy as np

    from dislab.atomic import write_json
    from dislab.data.loader import DSprites
    from dislab.evaluation.downstream import downstream_task
    from dislab.evaluation.representation import EncoderMeans
    from dislab.models.checkpoint import load_vae

    n_jobs = _threads(job.threads)
    data = DSprites.load(job.input["data"])
    represent = EncoderMeans(load_vae(job.input["model"]), data, progress=True)
    settings = job.params["settings"]
    rng = np.random.default_rng([settings["random_seed"], 100])
    results = downstream_task(
        data,
        represent,
        rng,
        settings["train_sizes"],
        settings["num_test"],
        settings["classifier"],
        settings["sample_efficiency"],
        n_jobs=n_jobs,
    )
    log.info("downstream: %s", {k: v for k, v in results.items() if "mean_test" in k or k == "sample_efficiency"})
    write_json(job.output["downstream"], results)


def cmd_tables(job: Job):
    """metrics.csv, Tables 5.3 and 5.6, the Spearman tables (one output per table of TABLE_FILES)"""
    from dislab.evaluation.tables import write_all

    table = write_all(job.cells("metrics"), job.cells("downstream", "downstream_cells"), dict(job.output))
    log.info("collected %d cells", len(table))


def cmd_fidelity(job: Job):
    """the run's numbers beside the thesis', and Chapter 5's claims checked"""
    from dislab.evaluation.fidelity import write_fidelity

    settings, out = job.params["settings"], job.output
    nums, checks = write_fidelity(
        job.cells("metrics"),
        job.cells("downstream", "downstream_cells"),
        job.input["dataset"],
        settings["config"],
        settings["thesis"],
        job.input["thesis_values"],
        {"csv": out["csv"], "claims": out["claims"], "md": out["md"]},
        settings["active_kl_threshold"],
    )
    log.info(
        "numbers: %s; claims: %s", nums["verdict"].value_counts().to_dict(), checks["status"].value_counts().to_dict()
    )


def _figure(name: str, group: str):
    from dislab.figures.registry import BY_NAME

    figure = BY_NAME.get(name)
    if figure is None or figure.family != group:
        raise DislabError(f"{name!r} is not a {group} figure of dislab/figures/registry.py")
    return figure


def cmd_figure_evaluation(job: Job):
    """a figure drawn from metrics.csv (5.9 ... 5.19)"""
    import pandas as pd

    figure = _figure(job.params["name"], "evaluation")
    table = pd.read_csv(job.input["table"])
    correlation = job.input.get("correlation")  # only the figures that draw a Spearman table have one
    corr = pd.read_csv(correlation, index_col=0) if correlation else None
    figure.function()(table, corr, job.output["png"])


def cmd_figure_qualitative(job: Job):
    """traversals, KDEs, aggregate posteriors, domain-shift probes"""
    from dislab.data.loader import DSprites
    from dislab.models.checkpoint import load_vae

    figure = _figure(job.params["name"], "qualitative")
    data = DSprites.load(job.input["data"])
    entries = [(asdict(cell), load_vae(path)) for cell, path in job.cells("models")]
    figure.function()(entries, data, job.params["settings"], job.output["png"], figure.number)


def cmd_results_index(job: Job):
    """results/README.md: one line per table and figure"""
    from dislab.results_index import write_index

    p = job.params
    write_index(p["entries"], job.output["index"], p["config_files"], p["dataset"])


COMMANDS = {
    name.removeprefix("cmd_").replace("_", "-"): func
    for name, func in list(globals().items())
    if name.startswith("cmd_") and callable(func)
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dislab", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in COMMANDS.items():
        p = sub.add_parser(name, help=func.__doc__)
        p.add_argument(
            "--job",
            type=Job.from_json,
            required=True,
            help="the job as JSON: input, output and params by name, threads, resources (workflow/rules/common.smk)",
        )
        p.set_defaults(func=func)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # every command is a batch job that allocates and frees the same buffers over and over
    try:
        args.func(args.job)
    except DislabError as exc:
        print(f"dislab {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk outside dislab.atomic's writes
        if not is_disk_full(exc):
            raise
        message = disk_full(exc.filename, removed=False) if exc.filename else "no space left on device: free space"
        print(f"dislab {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0
