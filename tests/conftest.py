import hashlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")  # the venv's, whether or not it is activated
sys.path.insert(0, str(Path(__file__).parent))

TINY_GRID = (1, 3, 2, 4, 8, 8)


def pytest_addoption(parser):
    parser.addoption(
        "--device",
        default="cpu",
        help="torch device of the training, packing and fast-step tests (default cpu; on a GPU machine, "
        "`--device cuda tests/test_training.py tests/test_pack.py tests/test_fast_step.py`)",
    )


@pytest.fixture(scope="session")
def device(request):
    import torch

    device = torch.device(request.config.getoption("--device"))
    if device.type == "cuda" and not torch.cuda.is_available():
        pytest.fail("--device cuda, but torch sees no CUDA GPU")
    return device


@pytest.fixture(scope="session")
def tiny_grid():
    from dislab.data.grid import FactorGrid

    return FactorGrid(TINY_GRID)


@pytest.fixture(scope="session")
def tiny_hdf5(tmp_path_factory, tiny_grid):
    from dislab.data.synthetic import write_synthetic_hdf5

    path = tmp_path_factory.mktemp("data") / "tiny.hdf5"
    write_synthetic_hdf5(path, tiny_grid, workers=1, progress=False)
    return path


@pytest.fixture(scope="session")
def tiny_data(tiny_hdf5):
    from dislab.data.loader import DSprites

    return DSprites.load(tiny_hdf5)


def ctrl_c_as_in_a_terminal():
    """SIGINT back to its default in a child process (``preexec_fn``): a test run started in the background of a
    script (bash ignores SIGINT there, and the ignoring is inherited) would otherwise give children that no Ctrl-C
    stops."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_snakemake(workdir, *args, configfile="config/tiny.yaml", check=True, timeout=900):
    """Run this repo's workflow in ``workdir`` (results land there, not in the checkout)."""
    cmd = [
        SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(REPO / configfile),
        *args,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """config/tiny.yaml run end to end on this machine, once per test session."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    run_snakemake(workdir, "--cores", "2")
    return workdir


def on(device, settings, **how):
    """The Execution of a training job on ``device`` (``how``: channels_last, compile); settings own the precision."""
    import torch

    from dislab.training.execution import Execution

    return Execution(torch.device(device), **how)


def train_job(data, outdir, settings: dict, device="cpu", model="betavae", strength="1", seed=0, threads=0) -> list:
    """``python -m dislab train``'s arguments for one cell, as the train rule hands them to its script (see
    workflow/rules/train.smk); the checkpoint cadence comes from ``settings``' training section, as from the config."""
    import json

    outdir = str(outdir)
    job = {
        "input": {"data": str(data), "checked": "results/data/dataset.json"},
        "output": {
            "model": f"{outdir}/model.pt",
            "train_log": f"{outdir}/train_log.csv",
            "summary": f"{outdir}/summary.json",
        },
        "params": {
            "cells": [{"model": model, "strength": strength, "seed": seed}],
            "settings": settings,
            "device": str(device),
            "channels_last": False,
            "compile": False,
        },
        "threads": threads,
        "resources": {},
        "config": {"training": {"checkpoint_every": settings["training"].get("checkpoint_every")}},
    }
    return ["train", "--job", json.dumps(job)]


# A download server on 127.0.0.1 (no outside network): /missing is a 404, /broken drops half way, anything else
# serves PAYLOAD.
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB fixture
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/broken":  # the connection drops half way
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
