"""The warnings a run's jobs logged (lost progress, a checkpoint not written, a transient error retried), gathered
from their logs for the end of the run, where Snakemake's terminal shows them (the Snakefile's onsuccess and
onerror). A job logs a warning as a line ``<time> WARNING <message>`` (dislab.cli's logging format)."""

from __future__ import annotations

from pathlib import Path

MARK = " WARNING "


def warnings_since(logs: Path, since: float) -> dict[str, list[str]]:
    """log file -> its warning lines, for every log under ``logs`` written at or after ``since`` (a time.time())."""
    found = {}
    for path in sorted(Path(logs).rglob("*.log")) if Path(logs).is_dir() else []:
        try:
            if path.stat().st_mtime < since:
                continue
            lines = [
                line.split(MARK, 1)[1].strip() for line in path.read_text(errors="replace").splitlines() if MARK in line
            ]
        except OSError:
            continue
        if lines:
            found[str(path)] = lines
    return found
