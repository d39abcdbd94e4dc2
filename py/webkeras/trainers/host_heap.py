"""Keeping freed host memory in the process while traced steps replay.

A replayed step allocates the same large arrays every time (im2col patches, activations and
their gradients: megabytes each for a LeNet step) and frees them at its end. glibc's malloc
gives such blocks back to the kernel (mmap'd blocks, and the heap's free top beyond its trim
threshold), so the next step takes them again as fresh pages: 2,356 page faults a LeNet step,
2-3.6 of ~20 ms (bench/results/train_step_traced_2026-12-05.md). Raising the two thresholds
once keeps the memory for the next step. It is process-wide, as any allocator setting is; a
steady training loop needs its peak memory again at every step anyway.

Natively with glibc only: Pyodide's allocator never gives WebAssembly memory back, and other C
libraries keep their own defaults.
"""

import ctypes
import platform
import sys

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to glibc's largest mmap threshold on 64-bit (32 MiB) come from the heap, and up to
# 256 MiB of its free top stays mapped.
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 256 << 20

_kept = []


def keep_freed_memory():
    """Make freed host memory stay in the process (once; a no-op off glibc)."""
    if _kept or sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(None)
    _kept.append(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and
                 libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
