"""Write files so that a crash never leaves a half-written file under the final name, nor temporary files behind."""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path

from dislab.errors import DiskFullError

_UMASK = os.umask(0)
os.umask(_UMASK)


def is_disk_full(exc: BaseException, directory=None) -> bool:
    """Whether ``exc`` says the file system is full: Python's ENOSPC, a library's message that wraps it, or (for a
    library that words it otherwise) an I/O error in ``directory`` while that file system has no room left."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if not isinstance(exc, (OSError, RuntimeError)):
        return False
    if "No space left on device" in str(exc) or "errno = 28" in str(exc):
        return True
    try:
        return directory is not None and shutil.disk_usage(directory).free < (1 << 20)
    except OSError:
        return False


def disk_full(path: str | os.PathLike, removed: bool = True) -> DiskFullError:
    """The one-line error; ``removed``: the half-written file is gone (as atomic_path makes sure)."""
    path = Path(path)
    return DiskFullError(
        f"no space left on device writing {path}: free space in {path.parent} (df -h "
        f"{path.parent}) and rerun" + ("; the half-written file was removed" if removed else "")
    )


def _temp_pattern(path: Path, suffix: str) -> str:
    return str(path.parent / f".{glob.escape(path.name)}.*{glob.escape(suffix)}")


def remove_temporaries(path: str | os.PathLike, suffix: str = ".part") -> None:
    """Remove the temporary files of ``path`` (with ``suffix``) that a killed writer left behind."""
    for stale in glob.glob(_temp_pattern(Path(path), suffix or ".part")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    Only one job writes a given output, so temporary files of ``path`` that a killed run left behind (SIGKILL runs no
    clean-up) are removed first. A full disk is reported as one line (DiskFullError)."""
    path = Path(path)
    suffix = suffix or ".part"
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_temporaries(path, suffix)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(path) from exc
        raise
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; finished files get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if is_disk_full(exc, path.parent):
            raise disk_full(path) from exc
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _plain(value):
    """numpy scalars and arrays as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_plain) + "\n")
