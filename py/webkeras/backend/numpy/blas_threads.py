"""How many threads NumPy's BLAS may use for one of the backend's products.

OpenBLAS's default (a thread per core) is the slow case for the products a small model makes,
and badly so on a busy machine: on these 2-core machines, with other processes holding the
cores, a 128x784 @ 784x128 float32 product took 35 ms with 2 threads against 0.9 ms with one,
and even a 1000^3 one was faster on one thread (57 vs 110 ms). So: one thread for products
under `PARALLEL_FLOPS`, and for every product while the machine is busy (load average at or
above the core count, read at most once a second); the library's default otherwise. The
previous count is put back after each product, so NumPy code around webkeras keeps its own.

Where threadpoolctl or a BLAS with threads is missing (the browser tab), nothing changes.
"""

import contextlib
import os
import time

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # the tab: Pyodide's NumPy has no threaded BLAS
    ThreadpoolController = None

#: 2 * m * n * k from which a product may use every thread on an idle machine.
PARALLEL_FLOPS = 2 * 384 ** 3
_LOAD_CHECK_SECONDS = 1.0


class BlasThreads:
    def __init__(self):
        controllers = ThreadpoolController().lib_controllers if ThreadpoolController else []
        self._blas = [c for c in controllers if c.user_api == "blas" and c.num_threads > 1]
        self._cores = os.cpu_count() or 1
        self._busy, self._checked = False, -_LOAD_CHECK_SECONDS

    def _machine_busy(self):
        now = time.monotonic()
        if now - self._checked >= _LOAD_CHECK_SECONDS:
            self._checked = now
            try:
                self._busy = os.getloadavg()[0] >= self._cores
            except OSError:
                self._busy = False
        return self._busy

    @contextlib.contextmanager
    def for_product(self, flops):
        """Runs the block with one BLAS thread when a product of `flops` would not gain from
        more (see the module docstring)."""
        if not self._blas or (flops >= PARALLEL_FLOPS and not self._machine_busy()):
            yield
            return
        previous = [c.num_threads for c in self._blas]
        for controller in self._blas:
            controller.set_num_threads(1)
        try:
            yield
        finally:
            for controller, count in zip(self._blas, previous):
                controller.set_num_threads(count)


#: The process's BLAS is one library, so every NumPy backend shares one chooser.
blas_threads = BlasThreads()
