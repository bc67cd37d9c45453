"""The entry points of the workflow's rules: one ``cmd_*`` function per command, given the rule's job.

A rule hands its named input, output and params, its threads, resources and log to its script in
``workflow/scripts/`` the way Snakemake hands them to every script (the ``snakemake`` object); the script calls
``run_rule(COMMAND, snakemake)``, and the command reads them by the names the rule gives them. The same job runs by
hand as ``python -m dislab COMMAND --job JOB`` (JOB: a JSON object, or a file holding one, with the keys
input, output, params, threads, resources and config). A cell travels as a cell (model, strength, seed), never
parsed back out of a path.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dislab.allocator import keep_freed_memory
from dislab.atomic import disk_full, is_disk_full
from dislab.cells import Cell
from dislab.errors import DislabError, Interrupted
from dislab.interrupts import exit_status, interruption, sigterm_interrupts

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
    """What the rule gives its command: input and output files and params by name, threads, resources, and the
    workflow's config (for what must reach the job without being a param, a rerun trigger: the checkpoint
    cadence)."""

    input: Part
    output: Part
    params: Part
    threads: int = 0
    resources: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    @classmethod
    def of(cls, spec: dict) -> Job:
        return cls(
            Part("input", spec.get("input", {})),
            Part("output", spec.get("output", {})),
            Part("params", spec.get("params", {})),
            spec.get("threads", 0),
            spec.get("resources", {}),
            spec.get("config", {}),
        )

    @classmethod
    def from_snakemake(cls, smk) -> Job:
        """The job of a rule's script, from the ``snakemake`` object Snakemake gives it."""
        return cls.of(
            {
                "input": dict(smk.input.items()),
                "output": dict(smk.output.items()),
                "params": dict(smk.params.items()),
                "threads": smk.threads,
                "resources": {k: v for k, v in smk.resources.items() if not k.startswith("_") and k != "tmpdir"},
                "config": smk.config,
            }
        )

    @classmethod
    def from_argument(cls, text: str) -> Job:
        """``--job``: a JSON object, or the path of a file holding one."""
        if not text.lstrip().startswith(("{", "[")) and Path(text).is_file():
            text = Path(text).read_text()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"--job is not JSON nor a JSON file ({exc})") from None
        if not isinstance(spec, dict):
            raise argparse.ArgumentTypeError("--job is not a JSON object of input, output, params, threads, resources")
        return cls.of(spec)

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


def cmd_train(job: Job):
    """train (model, strength, seed) cells, resuming from their checkpoints; several seeds train as one pack"""
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings

    p = job.params
    cells = [Cell.of(cell) for cell in p["cells"]]
    outdirs = [os.path.dirname(path) for path in as_list(job.output["model"])]
    settings = TrainSettings.from_config(p["settings"])
    # The checkpoint cadence changes no number (resuming is exact), so it is no param of the rule: it comes from the
    # config itself, and changing it reruns nothing.
    checkpoint_every = job.config.get("training", {}).get("checkpoint_every")
    single = len(cells) == 1
    # Before anything slow: a job without its GPU stops within seconds.
    execution = Execution.build(p["device"], p["channels_last"] and single, p["compile"])
    log.info("run: %s", execution.describe(settings.precision, len(cells)))
    if p["channels_last"] and not single:
        log.info("channels-last applies to one cell at a time; this pack of %d runs in the default layout", len(cells))
    _threads(job.threads)
    from dislab.data.loader import DSprites
    from dislab.training.trainer import train

    data = DSprites.load(job.input["data"]).packed
    train(data, cells, settings, outdirs, execution, checkpoint_every=checkpoint_every)


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
    from dislab.evaluation.fidelity.run import write_fidelity

    settings = job.params["settings"]
    nums, checks = write_fidelity(
        job.cells("metrics"),
        job.cells("downstream", "downstream_cells"),
        job.cells("summaries"),
        job.input["dataset"],
        job.input["data"],
        settings["config"],
        settings["thesis"],
        job.input["thesis_values"],
        dict(job.output),
    )
    log.info(
        "numbers: %s; claims: %s", nums["verdict"].value_counts().to_dict(), checks["status"].value_counts().to_dict()
    )


def cmd_figure(job: Job):
    """a figure of dislab/figures/registry.py (the param ``name``), drawn from its family's inputs"""
    from dislab.figures.registry import BY_NAME

    figure, png = BY_NAME.get(job.params["name"]), job.output["png"]
    if figure is None:
        raise DislabError(f"{job.params['name']!r} is not a figure of dislab/figures/registry.py")
    draw, settings = figure.function(), job.params.get("settings", {})
    data = _dataset(job) if figure.reads_data else None
    if figure.family == "dataset":
        draw(data, settings, png)
    elif figure.family == "generation":
        from dislab.figures.common import cell_title
        from dislab.models.checkpoint import load_vae

        ((cell, path),) = job.cells("models")
        draw(load_vae(path), data, settings, png, cell_title(cell.model, cell.strength, cell.seed))
    elif figure.family == "training":
        draw(job.cells("logs"), png)
    elif figure.family == "evaluation":
        import pandas as pd

        correlation = job.input.get("correlation")  # only the figures that draw a Spearman table have one
        draw(pd.read_csv(job.input["table"]), pd.read_csv(correlation, index_col=0) if correlation else None, png)
    else:
        from dislab.models.checkpoint import load_vae

        entries = [(asdict(cell), load_vae(path)) for cell, path in job.cells("models")]
        draw(entries, data, settings, png, figure.number)


def _dataset(job: Job):
    from dislab.data.loader import DSprites

    return DSprites.load(job.input["data"])


def cmd_results_index(job: Job):
    """results/README.md: one line per table and figure"""
    from dislab.results_index import write_index

    p = job.params
    write_index(p["entries"], job.output["index"], p["config_files"], p["dataset"], p["smoke"])


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
            type=Job.from_argument,
            required=True,
            help="the job: a JSON object (or a file holding one) of input, output and params by name, threads, "
            "resources and config, as the rule hands them to its script",
        )
    return parser


# OSError numbers of a file system or network that may answer the next time: a job that meets one is run again
# (training resumes from its checkpoint) after a pause, at most RETRIES times. Every other failure of a job is its
# last: Snakemake does not retry jobs (profiles/default), since a dislab error is the same every time.
TRANSIENT = {errno.EIO, errno.ESTALE, errno.ETIMEDOUT, errno.EAGAIN, errno.EBUSY, errno.ECONNRESET, errno.EREMOTEIO}
RETRIES, RETRY_PAUSE_S = 2, 30.0


def run(command: str, job: Job) -> int:
    """Run ``command`` on ``job``; a dislab error, a full disk or an interruption is one line on stderr, and the exit
    status says which (1, or 130 for Ctrl-C and 143 for SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    keep_freed_memory()  # every command is a batch job that allocates and frees the same buffers over and over
    for attempt in range(RETRIES + 1):
        try:
            with sigterm_interrupts():
                COMMANDS[command](job)
            return 0
        except Interrupted as exc:
            print(f"dislab {command}: {exc}", file=sys.stderr)
            return exc.status
        except KeyboardInterrupt as exc:
            print(f"dislab {command}: {interruption(exc)}; a rerun runs this job again", file=sys.stderr)
            return exit_status(exc)
        except DislabError as exc:
            print(f"dislab {command}: error: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            if is_disk_full(exc):  # a full disk outside dislab.atomic's writes
                message = disk_full(exc.filename, removed=False) if exc.filename else "no space left on device"
                print(f"dislab {command}: error: {message}", file=sys.stderr)
                return 1
            if exc.errno not in TRANSIENT or attempt == RETRIES:
                raise
            log.warning(
                "a transient I/O error (%s); running the job again in %.0f s (%d of %d)",
                exc,
                RETRY_PAUSE_S,
                attempt + 1,
                RETRIES,
            )
            time.sleep(RETRY_PAUSE_S)
    return 1  # not reached


def run_rule(command: str, snakemake) -> None:
    """A rule's script (workflow/scripts/): ``command`` on the rule's job, its output and errors in the rule's log
    (as a shell rule's ``> {log} 2>&1``); exits with the command's status."""
    if snakemake.log:
        out = os.open(snakemake.log[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stdout.flush(), sys.stderr.flush()
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
    status = run(command, Job.from_snakemake(snakemake))
    sys.stdout.flush(), sys.stderr.flush()
    if status:
        sys.exit(status)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run(args.command, args.job)
