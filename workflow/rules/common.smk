# Helpers shared by the rules: paths derived from the config, and the JSON settings each entry point reads.
import json
import os
import sys
from pathlib import Path

from dislab.cells import DISCRIMINATOR_MODELS, MODEL_NAMES, strength_tag
from dislab.evaluation.tables import TABLE_FILES
from dislab.figures.registry import figures
from dislab.gpu import OTHER_DEVICE, no_gpu_here

# Every rule calls `python -m dislab ...`, imported from this checkout. Without conda, `python` is the one
# running Snakemake (the project's venv, activated or not); a rule's conda environment puts its own first.
# envvars passes both variables on to cluster jobs.
os.environ["PYTHONPATH"] = os.pathsep.join(path for path in (DISLAB_DIR, os.environ.get("PYTHONPATH")) if path)
search_path = os.environ.get("PATH", "")
os.environ["PATH"] = os.pathsep.join((os.path.dirname(sys.executable), search_path))


envvars:
    "PYTHONPATH",
    "PATH",


wildcard_constraints:
    model="|".join(MODEL_NAMES),
    strength=r"[0-9][0-9.e+-]*",
    seed=r"\d+",


DATASET_FILES = {
    "download": "resources/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5",
    "synthetic": "resources/dsprites_synthetic_{shape}x{scale}x{orientation}x{posX}x{posY}.hdf5".format(
        **config["dataset"]["synthetic_grid"]
    ),
}
MODEL_DIR = "results/models/{model}/{strength}/seed{seed}"
CELLS = [
    {"model": model, "strength": strength_tag(s), "seed": seed}
    for model, entry in config["models"].items()
    for s in entry["strengths"]
    for seed in config["seeds"]
]


RESOURCES = config["resources"]
TRAIN_GPUS = 0 if config["training"]["device"] == "cpu" else RESOURCES["train"].get("gpus", 1)

if not set(config["downstream"]["sample_efficiency"]) <= set(config["downstream"]["train_sizes"]):
    raise WorkflowError(
        f"downstream.sample_efficiency {config['downstream']['sample_efficiency']} must name two of "
        f"downstream.train_sizes {config['downstream']['train_sizes']}"
    )


def dataset_file():
    source = config["dataset"]["source"]
    if source == "path":
        if not config["dataset"]["path"]:
            raise WorkflowError("dataset.source is 'path' but dataset.path is empty: set it to your copy of dSprites")
        return config["dataset"]["path"]
    return DATASET_FILES[source]


def dataset_check_settings():
    """What the dataset check reads for the configured source, and no more: its output is an input of every training
    job, so rewriting it over an unrelated key (say dataset.path while downloading) would retrain the grid."""
    used = {"download": ("sha256",), "path": ("sha256", "npz_md5"), "synthetic": ()}
    source = config["dataset"]["source"]
    return {"source": source, **{key: config["dataset"][key] for key in used[source]}}


def cell_of(entry):
    """The grid cell a figure entry names; stops the run if the grid does not train it."""
    cell = {"model": entry["model"], "strength": strength_tag(entry["strength"]), "seed": entry["seed"]}
    if cell not in CELLS:
        raise WorkflowError(
            f"the figures config asks for {cell['model']} strength {cell['strength']} seed {cell['seed']}, "
            "which the grid (models, seeds) does not train; add it to the grid or pick a trained cell"
        )
    return cell


def in_order(cells):
    """``cells`` sorted by model, strength and seed: a job that gets many cells gets them in one order whatever the
    config's, so listing the same grid in another order changes none of its params."""
    return sorted(cells, key=lambda c: (c["model"], float(c["strength"]), int(c["seed"])))


def cell_file(name, cell):
    return f"{MODEL_DIR}/{name}".format(**cell)


def cell_files(name, cells=CELLS):
    return [cell_file(name, cell) for cell in cells]


# How a training job runs, not what it computes (dislab/training/execution.py): not part of the settings nor of the
# checkpoints' fingerprint, so a resume.pt written one way is resumed another way. They are params of the rules all
# the same: other kernels give other float bits, so changing them retrains.
EXECUTION = {key: config["training"][key] for key in ("device", "channels_last", "compile")}
# The conda environment of the training jobs: a CUDA build of PyTorch unless the config trains on the CPU.
TRAIN_ENV = "../../envs/train-cpu.yaml" if config["training"]["device"] == "cpu" else "../../envs/train.yaml"


def training_packs(size):
    """The grid's cells in packs: the seeds of each (model, strength) in config order, ``size`` at a time."""
    packs = []
    for model, entry in config["models"].items():
        for s in entry["strengths"]:
            cells = [c for c in CELLS if c["model"] == model and c["strength"] == strength_tag(s)]
            for start in range(0, len(cells), size):
                chunk = cells[start : start + size]
                seeds = "-".join(str(c["seed"]) for c in chunk)
                packs.append(
                    {
                        "model": model,
                        "strength": strength_tag(s),
                        "cells": chunk,
                        "rule": f"train_{model}_{strength_tag(s).replace('.', 'p')}_seeds{seeds.replace('-', '_')}",
                        "log": f"logs/train/{model}/{strength_tag(s)}/seeds{seeds}.log",
                    }
                )
    return packs


def train_settings(model):
    """Exactly what can change a cell's weights and log, so that editing anything else retrains nothing: the
    discriminator only for FactorVAE, ``steps`` or else ``epochs`` (never both), the model's own options; not
    ``checkpoint_every`` (resuming is exact, so it is a resource of the job, not a param)."""
    network = {k: v for k, v in config["model"].items() if k != "discriminator" or model in DISCRIMINATOR_MODELS}
    training = config["training"]
    length = {"steps": training["steps"]} if training["steps"] else {"epochs": training["epochs"]}
    options = {k: v for k, v in config["models"][model].items() if k != "strengths"}
    return {
        "model": network,
        "training": {"precision": training["precision"], "log_every": training["log_every"], **length},
        "options": options,
    }


def refuse_training_without_a_gpu():
    """On a local run that will train with ``training.device: cuda``, stop before any job starts when this
    machine has no GPU (on a cluster, the training job checks its own node within seconds)."""
    if not str(config["training"]["device"]).startswith("cuda") or not workflow.local_exec:
        return
    if not any(job.rule.name.startswith("train") for job in workflow.dag.needrun_jobs()):
        return
    problem = no_gpu_here()
    if problem:
        raise WorkflowError(
            f"training.device is '{config['training']['device']}' but {problem}; nothing was run. Train on a "
            f"machine with a GPU (a cluster: --profile slurm), or {OTHER_DEVICE}."
        )


def shown_path(path):
    """A config file as the user would type it: relative to where Snakemake runs when it lies below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def thesis_config():
    """config/thesis.yaml, the thesis' setup, with the schema's defaults: what the fidelity table compares with."""
    import yaml

    with open(os.path.join(DISLAB_DIR, "config", "thesis.yaml")) as handle:
        thesis = yaml.safe_load(handle)
    validate(thesis, os.path.join(DISLAB_DIR, "workflow", "schemas", "config.schema.yaml"))
    return thesis


def fidelity_settings():
    """The run's setup and the thesis' (only what decides whether a number compares), and the active-latent bar."""
    keys = ("model", "training", "models", "seeds", "metrics", "downstream")
    run = {key: config[key] for key in keys}
    run["training"] = {k: v for k, v in config["training"].items() if k != "checkpoint_every"}  # changes no number
    return {
        "config": run,
        "thesis": {key: value for key, value in thesis_config().items() if key in keys},
        "active_kl_threshold": config["figures"]["active_kl_threshold"],
    }


def as_json(value):
    return json.dumps(value, sort_keys=True)


def _plain(value):
    """A param as JSON has it (dict keys sorted), so that its record does not depend on the config's key order."""
    return json.loads(as_json(value))


def job_params(**params):
    """A rule's params, declared once: each is a param of its own (what the job's results depend on: Snakemake
    reruns the job when one changes; a function of the wildcards is called for each job), and ``job`` hands them,
    with the job's named input and output, its threads and resources, to ``python -m dislab`` (``dislab()``) as
    JSON. ``job`` is a function of the files and resources, so Snakemake does not count it as a param to compare."""
    params = {
        name: (lambda wildcards, f=value: _plain(f(wildcards))) if callable(value) else _plain(value)
        for name, value in params.items()
    }

    def job(wildcards, input, output, threads, resources):
        return as_json(
            {
                "input": dict(input.items()),
                "output": dict(output.items()),
                "params": {k: v(wildcards) if callable(v) else v for k, v in params.items()},
                "threads": threads,
                "resources": {k: v for k, v in resources.items() if not k.startswith("_") and k != "tmpdir"},
            }
        )

    return {**params, "job": job}


def dislab(command):
    """A rule's shell command: ``python -m dislab COMMAND`` given the rule's job, its output and errors in the log."""
    return f"python -m dislab {command} --job {{params.job:q}} > {{log:q}} 2>&1"
