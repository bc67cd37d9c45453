"""dislab.allocator: a training process keeps freed activations instead of faulting in fresh pages every step."""

import subprocess
import sys

import pytest

# Run in a child: the setting is process-wide. Each "step" allocates and fills six 8 MiB buffers (the size of the
# first convolution's activations) and frees them, as a training step does; we count the minor page faults of the
# steps after the first, i.e. pages the process had to get from the OS again.
CHILD = """
import resource, sys
import numpy as np
from dislab.allocator import keep_freed_memory

if sys.argv[1] == "kept":
    assert keep_freed_memory()

def step():
    buffers = [np.ones(8 * 1024 * 1024, dtype=np.uint8) for _ in range(6)]
    del buffers

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode):
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_activations_are_reused_without_page_faults():
    pages_per_step = 6 * 8 * 1024 * 1024 // 4096
    assert _page_faults("default") > pages_per_step  # the C library's defaults hand pages back to the OS
    assert _page_faults("kept") < pages_per_step // 10
