"""Lint and format are tests: ruff (check and format) on the Python, snakefmt on the Snakefile and the rules.

Their settings live in pyproject.toml (line length 120). Fix a failure with ``ruff check --fix .``, ``ruff format .``
and ``snakefmt Snakefile workflow/``. ``snakemake --lint`` is checked in tests/test_workflow.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["snakefmt", "--check", "Snakefile", "workflow/"],
    ],
    ids=["ruff-check", "ruff-format", "snakefmt"],
)
def test_code_is_linted_and_formatted(command):
    proc = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stdout}\n{proc.stderr}"
