"""The fork server takes the C heap's free chunks before serving (kernel.heap_holes)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

SCRIPT = """
import ctypes
from pioreactor.kernel.heap_holes import SIZES, fill_heap_holes

libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
chunks = [libc.malloc(200) for _ in range(2000)]
for address in chunks[::2]:  # holes between live chunks, as imports leave them
    libc.free(address)
taken = fill_heap_holes()
again = fill_heap_holes()
print(taken, again, len(SIZES))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="it works on glibc's malloc only")
def test_the_holes_are_taken_and_kept() -> None:
    # in a process of its own: the chunks taken are kept for good
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    taken, again, sizes = map(int, result.stdout.split())
    assert taken >= 1000  # the 1000 freed chunks at least
    # a second fill finds only the chunk of each size that the first handed back from the top
    assert again <= sizes
