"""Errors meant for people: each says what went wrong and what to do about it."""


class DislabError(Exception):
    """Base class; the CLI prints these as one line and exits non-zero, without a traceback."""


class DatasetError(DislabError):
    """A dSprites file is missing, truncated, corrupt or of the wrong layout."""


class DownloadError(DislabError):
    """The dSprites download failed or did not match its checksum."""


class DiskFullError(DislabError):
    """No space was left to write an output."""


class TrainingError(DislabError):
    """Training diverged (NaN/inf) or cannot resume."""


class Interrupted(DislabError):
    """Ctrl-C or SIGTERM (scancel, preemption, a time limit) stopped a job; a rerun continues it. ``status``: the exit
    status of a process that signal ended (128 + its number)."""

    def __init__(self, message: str, status: int = 130):
        super().__init__(message)
        self.status = status
