# Helpers shared by the rules: paths derived from the config, and the JSON settings each entry point reads.
import json
import os

# Every rule calls `python -m dislab ...`, imported from this checkout, in the venv or in a rule's conda
# environment alike; envvars passes PYTHONPATH on to cluster jobs.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)


envvars:
    "PYTHONPATH",


DATASET_FILES = {
    "download": "resources/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.hdf5",
    "synthetic": "resources/dsprites_synthetic_{shape}x{scale}x{orientation}x{posX}x{posY}.hdf5".format(
        **config["dataset"]["synthetic_grid"]
    ),
}


def dataset_file():
    source = config["dataset"]["source"]
    if source == "path":
        if not config["dataset"]["path"]:
            raise ValueError("dataset.source is 'path' but dataset.path is empty: set it to your copy of dSprites")
        return config["dataset"]["path"]
    return DATASET_FILES[source]


def settings(*keys):
    """The config sections an entry point needs, as one JSON string (a change reruns that rule only)."""
    return json.dumps({key: config[key] for key in keys}, sort_keys=True)
