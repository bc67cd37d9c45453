# What the rules share: the grid's cells and the paths derived from the config, the input functions, the params each
# job records, and final_outputs() for rule all. Every rule file reads its names from here, so the order in which the
# Snakefile includes them does not matter.
import json
import os
import time
from pathlib import Path

from dislab.cells import DISCRIMINATOR_MODELS, MODEL_NAMES, strength_tag
from dislab.evaluation.fidelity.setup import configured_images, setup_of, smoke_reasons
from dislab.evaluation.table_files import TABLE_FILES, needs_downstream
from dislab.figures.registry import figures
from dislab.gpu import OTHER_DEVICE, no_gpu_here
from dislab.run_warnings import warnings_since

# Each rule's script imports dislab from this checkout, inside a rule's conda environment too; envvars passes the
# variable on to cluster jobs.
os.environ["PYTHONPATH"] = os.pathsep.join(path for path in (DISLAB_DIR, os.environ.get("PYTHONPATH")) if path)


envvars:
    "PYTHONPATH",


wildcard_constraints:
    model="|".join(MODEL_NAMES),
    strength=r"[0-9][0-9.e+-]*",
    seed=r"\d+",


RUN_STARTED = time.time()  # the warnings printed at the end are those of the jobs of this run
RESOURCES = config["resources"]
TRAIN_GPUS = 0 if config["training"]["device"] == "cpu" else RESOURCES["train"].get("gpus", 1)
# The conda environment of the training jobs: a CUDA build of PyTorch unless the config trains on the CPU.
TRAIN_ENV = "../../envs/train-cpu.yaml" if config["training"]["device"] == "cpu" else "../../envs/train.yaml"

if not set(config["downstream"]["sample_efficiency"]) <= set(config["downstream"]["train_sizes"]):
    raise WorkflowError(
        f"downstream.sample_efficiency {config['downstream']['sample_efficiency']} must name two of "
        f"downstream.train_sizes {config['downstream']['train_sizes']}"
    )


# -- params ------------------------------------------------------------------------------------------------------
def as_json(value):
    return json.dumps(value, sort_keys=True)


def _plain(value):
    """A param as JSON has it (dict keys sorted), so that its record does not depend on the config's key order."""
    return json.loads(as_json(value))


def plain_params(**params):
    """A rule's params, each as plain JSON values: what the job's results depend on (Snakemake reruns the job when
    one changes; a function of the wildcards is called for each job). The rule's script reads them by name."""
    return {
        name: (lambda wildcards, f=value: _plain(f(wildcards))) if callable(value) else _plain(value)
        for name, value in params.items()
    }


# -- the data ----------------------------------------------------------------------------------------------------------
DATASET_FILES = {
    "download": "resources/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5",
    "synthetic": "resources/dsprites_synthetic_{shape}x{scale}x{orientation}x{posX}x{posY}.hdf5".format(
        **config["dataset"]["synthetic_grid"]
    ),
}
DATASET_CHECK = "results/data/dataset.json"


def dataset_file():
    source = config["dataset"]["source"]
    if source == "path":
        if not config["dataset"]["path"]:
            raise WorkflowError("dataset.source is 'path' but dataset.path is empty: set it to your copy of dSprites")
        return config["dataset"]["path"]
    return DATASET_FILES[source]


def dataset_inputs():
    """What a job that reads the images takes: the file, and the check that it is the right one."""
    return {"data": dataset_file(), "checked": DATASET_CHECK}


def dataset_check_settings():
    """What the dataset check reads for the configured source, and no more: its output is an input of every training
    job, so rewriting it over an unrelated key (say dataset.path while downloading) would retrain the grid."""
    used = {"download": ("sha256",), "path": ("sha256", "npz_md5"), "synthetic": ()}
    source = config["dataset"]["source"]
    return {"source": source, **{key: config["dataset"][key] for key in used[source]}}


# -- the grid's cells --------------------------------------------------------------------------------------------------
MODEL_DIR = "results/models/{model}/{strength}/seed{seed}"


def in_order(cells):
    """``cells`` sorted by model, strength and seed: a job that gets many cells gets them in one order whatever the
    config's, so listing the same grid in another order changes none of its params."""
    return sorted(cells, key=lambda c: (c["model"], float(c["strength"]), int(c["seed"])))


def cells_of(model, strength):
    """The cells of one (model, strength), seeds in config order."""
    return [{"model": model, "strength": strength_tag(strength), "seed": seed} for seed in config["seeds"]]


CELLS = [cell for model, entry in config["models"].items() for s in entry["strengths"] for cell in cells_of(model, s)]
CELL_KEYS = {(c["model"], c["strength"], c["seed"]) for c in CELLS}


def cell_of(entry):
    """The grid cell a figure entry names; stops the run if the grid does not train it."""
    cell = {"model": entry["model"], "strength": strength_tag(entry["strength"]), "seed": entry["seed"]}
    if (cell["model"], cell["strength"], cell["seed"]) not in CELL_KEYS:
        raise WorkflowError(
            f"the figures config asks for {cell['model']} strength {cell['strength']} seed {cell['seed']}, "
            "which the grid (models, seeds) does not train; add it to the grid or pick a trained cell"
        )
    return cell


def cell_file(name, cell):
    return f"{MODEL_DIR}/{name}".format(**cell)


def cell_files(name, cells=CELLS):
    return [cell_file(name, cell) for cell in cells]


def result_files(kind, cells):
    """results/{kind}/{model}/{strength}/seed{seed}.json of each cell: a cell's metrics or downstream results."""
    return [f"results/{kind}/{c['model']}/{c['strength']}/seed{c['seed']}.json" for c in cells]


# -- training ------------------------------------------------------------------------------------------------------
# How a training job runs, not what it computes (dislab/training/execution.py). They are params of the rules all the
# same: other kernels give other float bits, so changing them retrains.
EXECUTION = {key: config["training"][key] for key in ("device", "channels_last", "compile")}


def training_packs(size):
    """The grid's cells in packs: the seeds of each (model, strength) in config order, ``size`` at a time."""
    packs = []
    for model, entry in config["models"].items():
        for s in entry["strengths"]:
            cells = cells_of(model, s)
            for start in range(0, len(cells), size):
                chunk = cells[start : start + size]
                seeds = "-".join(str(c["seed"]) for c in chunk)
                packs.append(
                    {
                        "model": model,
                        "cells": chunk,
                        "rule": f"train_{model}_{strength_tag(s).replace('.', 'p')}_seeds{seeds.replace('-', '_')}",
                        "log": f"logs/train/{model}/{strength_tag(s)}/seeds{seeds}.log",
                    }
                )
    return packs


def train_settings(model):
    """Exactly what can change a cell's weights and log, so that editing anything else retrains nothing: the
    discriminator only for FactorVAE, ``steps`` or else ``epochs`` (never both), the model's own options; not
    ``checkpoint_every`` (resuming is exact: the job reads it from the config, it is no param)."""
    network = {k: v for k, v in config["model"].items() if k != "discriminator" or model in DISCRIMINATOR_MODELS}
    training = config["training"]
    length = {"steps": training["steps"]} if training["steps"] else {"epochs": training["epochs"]}
    options = {k: v for k, v in config["models"][model].items() if k != "strengths"}
    return {
        "model": network,
        "training": {"precision": training["precision"], "log_every": training["log_every"], **length},
        "options": options,
    }


# Each model's training settings as the jobs record them, made once (a grid of 12,750 cells asks for them per job).
SETTINGS = {model: _plain(train_settings(model)) for model in config["models"]}


def train_params(cells, model):
    """A pack's params: what its cells' weights depend on (the rerun triggers)."""
    return plain_params(cells=cells, settings=SETTINGS[model], **EXECUTION)


def cell_params(wildcards):
    """A one-cell training job's cells param, as plain_params would record it (keys sorted)."""
    return [dict(sorted(wildcards.items()))]


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


def say_training_needs_a_gpu_node():
    """A dry run with ``training.device: cuda`` on a machine without a GPU (a login node) says, once, where the
    training jobs must run."""
    if not workflow.output_settings.dryrun or not str(config["training"]["device"]).startswith("cuda"):
        return
    problem = no_gpu_here()
    if problem:
        print(
            f"dislab: training.device is '{config['training']['device']}', so every training job needs a GPU node: "
            f"{problem}, so run them through a cluster profile (--profile slurm), not locally here.",
            file=sys.stderr,
        )


# -- evaluation and tables -------------------------------------------------------------------------------------
DOWNSTREAM_MODELS = (
    list(config["models"]) if config["downstream"]["models"] == "all" else config["downstream"]["models"]
)
# The fan-in jobs' cells (in_order: the config's order does not matter) and their files, in the same order.
METRIC_CELLS = in_order(CELLS)
DOWNSTREAM_CELLS = [c for c in METRIC_CELLS if c["model"] in DOWNSTREAM_MODELS]
METRIC_FILES = result_files("metrics", METRIC_CELLS)
DOWNSTREAM_FILES = result_files("downstream", DOWNSTREAM_CELLS)
# dislab/evaluation/tables.py declares the tables (file and caption); fig5_19's only with downstream cells.
TABLES = {
    key: f"results/tables/{name}"
    for key, (name, _) in TABLE_FILES.items()
    if not needs_downstream(key) or DOWNSTREAM_CELLS
}
TABLE_CAPTIONS = {key: caption for key, (_, caption) in TABLE_FILES.items() if caption and key in TABLES}
FIDELITY = {
    "csv": "results/tables/fidelity.csv",
    "claims": "results/tables/fidelity_claims.csv",
    "md": "results/tables/fidelity.md",
    "html": "results/tables/fidelity.html",
}
# Why this run is a smoke run, far from the thesis' setup (none: it is not); results/README.md opens with it.
SMOKE = smoke_reasons(config, configured_images(config))


def thesis_config():
    """config/thesis.yaml, the thesis' setup, with the schema's defaults: what the fidelity table compares with."""
    import yaml

    with open(os.path.join(DISLAB_DIR, "config", "thesis.yaml")) as handle:
        thesis = yaml.safe_load(handle)
    validate(thesis, os.path.join(DISLAB_DIR, "workflow", "schemas", "config.schema.yaml"))
    return thesis


def fidelity_settings():
    """The run's setup and the thesis' (config/thesis.yaml): only what decides whether a number compares."""
    return {"config": setup_of(config), "thesis": setup_of(thesis_config())}


# -- figures -----------------------------------------------------------------------------------------------------
# The figures this grid draws (dislab/figures/registry.py): one rule each (workflow/rules/figures.smk).
FIGURES = figures(models=config["models"], downstream=bool(DOWNSTREAM_CELLS))
VAE_CELL = cell_of(config["figures"]["vae"])


def figure_cells(figure):
    """The cells ``figure`` shows (dislab/figures/registry.py: Figure.cells)."""
    if figure.cells == "vae_seeds":
        return in_order(cells_of(VAE_CELL["model"], float(VAE_CELL["strength"])))
    if figure.cells == "betavae":
        return [c for c in METRIC_CELLS if c["model"] == "betavae"]
    shown = config["figures"][figure.cells] if figure.cells else []
    return [cell_of(c) for c in (shown if isinstance(shown, list) else [shown])]


def figure_group(figure):
    """The pool a figure is drawn in on a cluster (profiles/default: group-components): the figures of the metric
    tables wait for every evaluation; those of the data, the models and their training logs are drawn as soon as
    training ends, beside the evaluations."""
    return "table_figures" if figure.family == "evaluation" else "model_figures"


def figure_inputs(figure):
    """What ``figure``'s family draws from (dislab/figures/registry.py), by name."""
    inputs = dataset_inputs() if figure.reads_data else {}
    if figure.family in ("generation", "qualitative"):
        inputs["models"] = cell_files("model.pt", figure_cells(figure))
    elif figure.family == "training":
        inputs["logs"] = cell_files("train_log.csv", figure_cells(figure))
    elif figure.family == "evaluation":
        inputs["table"] = TABLES["metrics"]
        if figure.correlation:
            inputs["correlation"] = TABLES[figure.correlation]
    return inputs


def figure_params(figure):
    """``figure``'s params: its name, the cells it shows and the part of the figures config it reads."""
    cells = figure_cells(figure) if figure.cells else None
    settings = {key: config["figures"][key] for key in figure.settings}
    return plain_params(
        name=figure.name, **({"cells": cells} if cells else {}), **({"settings": settings} if settings else {})
    )


def shown_path(path):
    """A config file as the user would type it: relative to where Snakemake runs when it lies below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


# -- rule all and the end of a run -----------------------------------------------------------------------------------
def final_outputs():
    """Everything a run regenerates: every cell's model, the figures, the tables, the fidelity page, the index."""
    return [
        *cell_files("model.pt"),
        *(f.png for f in FIGURES),
        *TABLES.values(),
        *FIDELITY.values(),
        "results/README.md",
    ]


def print_warnings():
    """At the end of a run, the warnings its jobs logged (progress lost, a checkpoint not written, a transient
    error retried), where the user sees them: the terminal that runs Snakemake."""
    found = warnings_since(Path("logs"), RUN_STARTED)
    if found:
        lines = [f"  {log}: {line}" for log, lines in found.items() for line in lines]
        print(f"dislab: {len(found)} job(s) of this run logged warnings:\n" + "\n".join(lines), file=sys.stderr)
