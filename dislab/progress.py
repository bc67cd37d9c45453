"""Progress bars for long work: tqdm's, or none where tqdm is not installed (a bare GPU machine's Python running
scripts/gpu_check.sh); nothing else in dislab imports tqdm."""

from __future__ import annotations

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - exercised by tests/test_gpu_check.py in a Python without tqdm
    tqdm = None


class _NoBar:
    """What the code uses of a tqdm bar, doing nothing."""

    def __init__(self, iterable=None, **_):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(iterable=None, **kwargs):
    """``tqdm(iterable, **kwargs)``, or a bar that shows nothing without tqdm."""
    return (tqdm or _NoBar)(iterable, **kwargs)
