"""Keep freed training activations in the process instead of handing them back to the OS after every step.

glibc serves allocations above a moving threshold (128 KiB at first) with fresh ``mmap`` pages and returns freed
heap memory above 128 KiB to the OS. A training step allocates and frees the same few-MB activations every time,
so each step would pay for page faults and zeroing again (docs/performance.md measures what that costs). Both
thresholds must be set: setting either one switches off glibc's own adaptation of the other. Elsewhere than
Linux/glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit: every activation of this model is below it
TRIM_THRESHOLD = 1024 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; True when they were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        done = (
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        )
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        done = False
    log.debug(
        "allocator: freed memory %s",
        "kept in the process (glibc thresholds raised)" if done else "left to the C library's defaults",
    )
    return done
