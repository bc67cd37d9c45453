"""Command-line entry points called by the workflow's rules: ``python -m dislab COMMAND ...``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from dislab.errors import DislabError

log = logging.getLogger("dislab")


def _json(text: str):
    return json.loads(text)


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
    from dislab.data.check import check_dataset

    summary = check_dataset(args.file, args.dataset)
    from dislab.atomic import write_json

    write_json(args.out, summary)
    log.info("dataset ok: %s", summary)


def cmd_figure_dataset(args):
    from dislab.data.loader import DSprites
    from dislab.figures.dataset import figure_dataset

    figure_dataset(DSprites.load(args.data), args.out, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dislab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="download the official dSprites HDF5 (sha256-checked)")
    p.add_argument("--dataset", type=_json, required=True, help="the config's dataset section as JSON")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("render", help="render the offline dSprites stand-in into the official HDF5 layout")
    p.add_argument("--grid", type=_json, required=True, help='values per factor, e.g. {"shape": 3, ...}')
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check-dataset", help="check a dSprites file's checksum and layout; write a summary")
    p.add_argument("--dataset", type=_json, required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_check_dataset)

    p = sub.add_parser("figure-dataset", help="Figure 5.1: random images and the mean image")
    p.add_argument("--data", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="PNG path; a PDF is written beside it")
    p.set_defaults(func=cmd_figure_dataset)
    return parser


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DislabError as exc:
        print(f"dislab {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0
