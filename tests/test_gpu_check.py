"""scripts/gpu_check.sh runs on a bare GPU machine: a Python with PyTorch and the usual scientific packages, but not
this project's other dependencies (tqdm, jsonschema, Snakemake). Both parts are run here on the CPU with those three
hidden."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

HIDDEN = ("tqdm", "jsonschema", "snakemake")


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A `python` without tqdm, jsonschema and Snakemake: this one without its site-packages (-S), and a copy of them
    (links) that leaves those three out."""
    import sysconfig

    root = tmp_path_factory.mktemp("bare")
    packages = root / "site-packages"
    packages.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(HIDDEN) and not entry.name.endswith(".pth"):
            (packages / entry.name).symlink_to(entry)
    python = root / "python"
    python.write_text(
        f'#!/bin/sh\nPYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}{packages}" exec {sys.executable} -S "$@"\n'
    )
    python.chmod(0o755)
    for module in HIDDEN:
        proc = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True)
        assert "No module named" in proc.stderr, f"{module} is not hidden"
    assert subprocess.run([str(python), "-c", "import torch, numpy, pandas, yaml, pytest"]).returncode == 0
    return python


def _gpu_check(*args, timeout=280):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "gpu_check.sh"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_the_tests_part_runs_on_a_bare_python(bare_python):
    """One quick test of each file, for speed: what matters is that all four files import and run."""
    proc = _gpu_check(
        "--part",
        "tests",
        "--device",
        "cpu",
        str(bare_python),
        "--",
        "-k",
        "unpacking or pack_takes or cuda_request or emulated or transient_io",
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "ModuleNotFoundError" not in out and "error" not in out.split("=== training tests")[1].lower(), out[-4000:]
    assert "gpu_check --part tests: every step ok" in out and " passed" in out


def test_the_bench_part_prints_each_row_and_the_cost_on_a_bare_python(bare_python):
    proc = _gpu_check("--part", "bench", "--device", "cpu", str(bare_python))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "ModuleNotFoundError" not in out, out[-4000:]
    assert "cell float32 channels-last" in out and "pack of 2 float32" in out
    assert "fastest in float32:" in out and "resources.train.runtime_minutes:" in out


def test_a_python_that_is_not_there_is_one_line():
    proc = _gpu_check("--part", "bench", "no-such-python")
    assert proc.returncode == 2 and proc.stdout.strip() == "gpu_check: no Python 'no-such-python' here"
