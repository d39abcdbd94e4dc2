"""Kernel timings on the native driver (wgpu-py): matmul, element-wise, reductions, Adam.

    PYTHONPATH=py python bench/kernels.py
"""

import os
import sys
import tempfile
import time

import numpy as np

if "XDG_RUNTIME_DIR" not in os.environ:
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp()

from webkeras.backend.webgpu import WebGPUBackend  # noqa: E402


def timed(backend, fn, repeats=5):
    """Median ms of `fn()` + flush + a 4-byte readback (so the GPU work is really done)."""
    probe = fn()
    backend.to_numpy(backend.reshape(probe, (-1,))) if probe is not None else backend.flush()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        backend.flush()
        backend.driver.read((out or probe).handle, 4)
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def main(argv):
    backend = WebGPUBackend()
    print(f"adapter: {backend.driver.adapter_info}")
    rng = np.random.default_rng(0)

    def up(*shape):
        return backend.from_numpy(rng.normal(size=shape).astype(np.float32))

    for m, k, n in [(512, 512, 512), (128, 784, 128), (1000, 1000, 1000)]:
        a, b = up(m, k), up(k, n)
        ms = timed(backend, lambda a=a, b=b: backend.matmul(a, b))
        print(f"matmul {m}x{k} @ {k}x{n}: {ms:.2f} ms")
    x = up(300_000)
    print(f"relu 300k: {timed(backend, lambda: backend.unary('relu', x)):.2f} ms")
    y = up(1000, 1000)
    for axes in [(0,), (1,), (0, 1)]:
        ms = timed(backend, lambda axes=axes: backend.reduce("sum", y, axes, False))
        print(f"sum 1000x1000 over {axes}: {ms:.2f} ms")
    var, grad, m1, v1 = up(100_000), up(100_000), up(100_000), up(100_000)
    backend.assign(v1, backend.unary("abs", v1))

    def adam():
        backend.adam_update(var, grad, m1, v1, 1e-3, 0.9, 0.999, 1e-7, 1)
        return var

    print(f"adam 100k params: {timed(backend, adam):.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
