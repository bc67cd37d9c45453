"""Command-line entry points called by the workflow's rules: ``python -m dislab COMMAND ...``."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys

from dislab.allocator import keep_freed_memory
from dislab.atomic import disk_full, is_disk_full
from dislab.errors import DislabError
from dislab.figures.registry import figures

log = logging.getLogger("dislab")


def _threads(n: int) -> int:
    """Use n torch threads (0: torch's default); the number of parallel model fits to run."""
    import torch

    if n:
        torch.set_num_threads(n)
    return max(n, 1)


def cmd_download(args):
    from dislab.data.download import download

    ds = args.dataset
    download(ds["url"], args.out, sha256=ds["sha256"], size=ds["size"])
    log.info("downloaded and verified %s", args.out)


def cmd_render(args):
    from dislab.data.grid import FactorGrid
    from dislab.data.synthetic import write_synthetic_hdf5

    stats = write_synthetic_hdf5(args.out, FactorGrid.from_mapping(args.grid), workers=args.workers)
    log.info("rendered %d images into %s in %.1f s", stats["images"], args.out, stats["seconds"])


def cmd_check_dataset(args):
    from dislab.atomic import write_json
    from dislab.data.check import check_dataset

    summary = check_dataset(args.file, args.dataset)
    write_json(args.out, summary)
    log.info("dataset ok: %s", summary)


def cmd_figure_dataset(args):
    from dislab.data.loader import DSprites
    from dislab.figures.dataset import figure_dataset

    figure_dataset(DSprites.load(args.data), args.out, seed=args.seed)


def cmd_train(args):
    from dislab.cells import Cell
    from dislab.training.execution import Execution
    from dislab.training.settings import TrainSettings

    if len(args.seed) != len(args.outdir):
        raise DislabError(f"train got {len(args.seed)} seeds but {len(args.outdir)} output directories; give one each")
    settings = TrainSettings.from_config(args.settings, checkpoint_every=args.checkpoint_every)
    single = len(args.seed) == 1
    # Before anything slow: a job without its GPU stops within seconds.
    execution = Execution.build(args.device, settings.precision, args.channels_last and single, args.compile)
    log.info("run: %s", execution.describe(len(args.seed)))
    if args.channels_last and not single:
        log.info(
            "channels-last applies to one cell at a time; this pack of %d runs in the default layout", len(args.seed)
        )
    _threads(args.threads)
    from dislab.data.loader import DSprites
    from dislab.training.trainer import train

    data = DSprites.load(args.data)
    train(data.packed, [Cell(args.model, args.strength, seed) for seed in args.seed], settings, args.outdir, execution)


def _cell_title(model_path) -> str:
    from dislab.cells import cell_from_path
    from dislab.figures.common import cell_title

    cell = cell_from_path(model_path)
    return cell_title(cell.model, cell.strength, cell.seed)


def cmd_figure_prior_samples(args):
    from dislab.figures.generation import figure_prior_samples
    from dislab.models.checkpoint import load_vae

    figure_prior_samples(load_vae(args.model), args.out, args.num_samples, args.seed, _cell_title(args.model))


def cmd_figure_reconstructions(args):
    from dislab.data.loader import DSprites
    from dislab.figures.generation import figure_reconstructions
    from dislab.models.checkpoint import load_vae

    figure_reconstructions(
        DSprites.load(args.data), load_vae(args.model), args.out, args.num_images, args.seed, _cell_title(args.model)
    )


def cmd_figure_reconstruction_per_epoch(args):
    from dislab.figures.training import figure_reconstruction_per_epoch

    figure_reconstruction_per_epoch(args.logs, args.out)


def cmd_figure_objective_per_beta(args):
    from dislab.figures.training import figure_objective_per_beta

    figure_objective_per_beta(args.logs, args.out)


def cmd_evaluate(args):
    from dislab.atomic import write_json
    from dislab.data.loader import DSprites
    from dislab.evaluation.evaluate import evaluate_model
    from dislab.models.checkpoint import load_vae

    n_jobs = _threads(args.threads)
    results = evaluate_model(load_vae(args.model_file), DSprites.load(args.data), args.settings, n_jobs=n_jobs)
    write_json(args.out, results)


def cmd_downstream(args):
    import numpy as np

    from dislab.atomic import write_json
    from dislab.data.loader import DSprites
    from dislab.evaluation.downstream import downstream_task
    from dislab.evaluation.representation import EncoderMeans
    from dislab.models.checkpoint import load_vae

    n_jobs = _threads(args.threads)
    data = DSprites.load(args.data)
    represent = EncoderMeans(load_vae(args.model_file), data, progress=True)
    settings = args.settings
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
    write_json(args.out, results)


def cmd_tables(args):
    from dislab.evaluation.tables import write_all

    table = write_all(args.metric_files, args.downstream_files or [], args.outputs)
    log.info("collected %d cells", len(table))


def cmd_fidelity(args):
    from dislab.evaluation.fidelity import write_fidelity

    settings = args.settings
    nums, checks = write_fidelity(
        args.metric_files,
        args.downstream_files or [],
        args.dataset,
        settings["config"],
        settings["thesis"],
        args.thesis_values,
        {"csv": args.csv, "claims": args.claims, "md": args.md},
        settings["active_kl_threshold"],
    )
    log.info(
        "numbers: %s; claims: %s", nums["verdict"].value_counts().to_dict(), checks["status"].value_counts().to_dict()
    )


def cmd_figure_evaluation(args):
    import pandas as pd

    from dislab.figures.registry import BY_NAME

    table = pd.read_csv(args.table)
    corr = pd.read_csv(args.correlation, index_col=0) if args.correlation else None
    BY_NAME[args.name].function()(table, corr, args.out)


def cmd_figure_qualitative(args):
    from dataclasses import asdict

    from dislab.cells import cell_from_path
    from dislab.data.loader import DSprites
    from dislab.figures.registry import BY_NAME
    from dislab.models.checkpoint import load_vae

    data = DSprites.load(args.data)
    entries = [(asdict(cell_from_path(path)), load_vae(path)) for path in args.models]
    figure = BY_NAME[args.name]
    figure.function()(entries, data, args.settings, args.out, figure.number)


def cmd_results_index(args):
    from dislab.results_index import write_index

    write_index(args.entries, args.out, args.config_files, args.dataset)


def _device(text: str) -> str:
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a training device: auto, cpu, cuda or cuda:N")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dislab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download the official dSprites HDF5 (sha256-checked)")
    p.add_argument("--dataset", type=json.loads, required=True, help="the config's dataset section as JSON")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("render", help="render the offline dSprites stand-in into the official HDF5 layout")
    p.add_argument("--grid", type=json.loads, required=True, help='values per factor, e.g. {"shape": 3, ...}')
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check-dataset", help="check a dSprites file's checksum and layout; write a summary")
    p.add_argument("--dataset", type=json.loads, required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_check_dataset)

    p = sub.add_parser("figure-dataset", help="Figure 5.1: random images and the mean image")
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="PNG path; a PDF is written beside it")
    p.set_defaults(func=cmd_figure_dataset)

    p = sub.add_parser(
        "train",
        help="train (model, strength, seed) cells, resuming from their checkpoints; "
        "several seeds train together as one pack",
    )
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--strength", type=float, required=True)
    p.add_argument("--seed", type=int, nargs="+", required=True)
    p.add_argument("--settings", type=json.loads, required=True, help="model, training and options sections as JSON")
    p.add_argument("--device", default="auto", type=_device, help="auto, cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints (the config's)")
    p.add_argument("--channels-last", action="store_true", help="channels-last convolutions (one cell at a time)")
    p.add_argument("--compile", action="store_true", help="torch.compile the step")
    p.add_argument("--outdir", nargs="+", required=True, help="one output directory per seed")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("figure-prior-samples", help="Figure 5.2: decoded prior samples and their mean")
    p.add_argument("--model", required=True)
    p.add_argument("--num-samples", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_figure_prior_samples)

    p = sub.add_parser("figure-reconstructions", help="Figure 5.3: inputs, reconstructions, differences")
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--num-images", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_figure_reconstructions)

    for name, func, text in [
        (
            "figure-reconstruction-per-epoch",
            cmd_figure_reconstruction_per_epoch,
            "Figure 5.4: reconstruction error per epoch over seeds",
        ),
        (
            "figure-objective-per-beta",
            cmd_figure_objective_per_beta,
            "Figure 5.7: total, reconstruction and KL per epoch for each beta",
        ),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--logs", nargs="+", required=True)
        p.add_argument("--out", required=True)
        p.set_defaults(func=func)

    for name, func, text in [
        ("evaluate", cmd_evaluate, "every metric and the unsupervised scores of one trained cell"),
        ("downstream", cmd_downstream, "the downstream GBT task of one trained cell"),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--data", required=True)
        p.add_argument("--model-file", required=True)
        p.add_argument("--settings", type=json.loads, required=True)
        p.add_argument("--threads", type=int, default=0)
        p.add_argument("--out", required=True)
        p.set_defaults(func=func)

    p = sub.add_parser("tables", help="metrics.csv, Tables 5.3 and 5.6, the Spearman tables")
    p.add_argument("--metric-files", nargs="+", required=True)
    p.add_argument("--downstream-files", nargs="*")
    p.add_argument(
        "--outputs",
        type=json.loads,
        required=True,
        help="JSON: table key -> path (dislab.evaluation.tables.TABLE_FILES)",
    )
    p.set_defaults(func=cmd_tables)

    p = sub.add_parser("fidelity", help="the run's numbers beside the thesis', and Chapter 5's claims checked")
    p.add_argument("--metric-files", nargs="+", required=True)
    p.add_argument("--downstream-files", nargs="*")
    p.add_argument("--dataset", required=True, help="the dataset check's summary (results/data/dataset.json)")
    p.add_argument("--thesis-values", required=True, help="the thesis' printed values (CSV)")
    p.add_argument(
        "--settings",
        type=json.loads,
        required=True,
        help="JSON: {config: the run's config, thesis: config/thesis.yaml with its defaults, "
        "active_kl_threshold: nats}",
    )
    for key in ("csv", "claims", "md"):
        p.add_argument(f"--{key}", required=True)
    p.set_defaults(func=cmd_fidelity)

    p = sub.add_parser("figure-evaluation", help="a figure drawn from metrics.csv (5.9 ... 5.19)")
    p.add_argument("--name", required=True, choices=[f.name for f in figures("evaluation")])
    p.add_argument("--table", required=True)
    p.add_argument("--correlation")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_figure_evaluation)

    p = sub.add_parser("figure-qualitative", help="traversals, KDEs, aggregate posteriors, domain-shift probes")
    p.add_argument("--name", required=True, choices=[f.name for f in figures("qualitative")])
    p.add_argument("--data", required=True)
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--settings", type=json.loads, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_figure_qualitative)

    p = sub.add_parser("results-index", help="results/README.md: one line per table and figure")
    p.add_argument("--entries", type=json.loads, required=True, help="JSON: result path -> caption file")
    p.add_argument("--config-files", nargs="+", required=True, help="the config files the run used")
    p.add_argument("--dataset", type=json.loads, required=True, help="the config's dataset section as JSON")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_results_index)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # every command is a batch job that allocates and frees the same buffers over and over
    try:
        args.func(args)
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
