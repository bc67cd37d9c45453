"""Ctrl-C and SIGTERM (scancel, preemption, a job's time limit): both stop a job as a KeyboardInterrupt, which the
training loop turns into one line naming the step (dislab.errors.Interrupted) and the CLI prints without a
traceback."""

from __future__ import annotations

import contextlib
import signal


@contextlib.contextmanager
def sigterm_interrupts():
    """Within the block, SIGTERM raises a KeyboardInterrupt that names it, as Ctrl-C raises one naming nothing."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interruption(exc: KeyboardInterrupt) -> str:
    """What stopped the job, in words."""
    return f"stopped by {exc.args[0]}" if exc.args else "interrupted (Ctrl-C)"


def exit_status(exc: KeyboardInterrupt) -> int:
    """The exit status of a process the signal ended: 128 + its number."""
    return 128 + (signal.SIGTERM if exc.args == ("SIGTERM",) else signal.SIGINT)
