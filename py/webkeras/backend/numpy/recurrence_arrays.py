"""The fused recurrence's array calls in plain NumPy (see backend/recurrence.py): slices are
views and the arithmetic skips the primitives' dtype checks; products stay the backend's (its
WASM kernels in the tab), except natively inside a loop over the steps, where every product is
small and one BLAS thread is held for the whole loop instead of set around each product."""

import contextlib

import numpy as np

from webkeras.backend.numpy.blas_threads import blas_threads
from webkeras.backend.recurrence import Arrays


class NumpyArrays(Arrays):
    def __init__(self, backend):
        super().__init__(backend)
        self._in_loop = False

    @contextlib.contextmanager
    def loop(self):
        with blas_threads.for_product(0):
            self._in_loop = True
            try:
                yield
            finally:
                self._in_loop = False

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        if not self._in_loop or self.backend.simd is not None:
            return super().matmul(a, b, transpose_a, transpose_b)
        return np.matmul(a.T if transpose_a else a, b.T if transpose_b else b)

    def transpose(self, x):
        return np.ascontiguousarray(x.T)

    def add(self, a, b, out=None):
        return np.add(a, b, out=out)

    def sub(self, a, b):
        return a - b

    def mul(self, a, b, out=None):
        return np.multiply(a, b, out=out)

    def one_minus(self, x, out=None):
        return np.subtract(1, x, out=out)

    def tanh(self, x, out=None):
        return np.tanh(x, out=out)

    def sigmoid(self, x):
        # The backend's own formula (numpy/__init__.py), so both paths round alike.
        return 0.5 * (np.tanh(0.5 * x) + 1)

    def where(self, condition, a, b):
        return np.where(condition, a, b)

    def zeros(self, shape, dtype):
        return np.zeros(shape, dtype)

    def columns(self, x, start, stop):
        return x[:, start:stop]

    def step(self, x, t, keep_axis=False):
        return x[:, t:t + 1] if keep_axis else x[:, t]

    def concatenate(self, arrays, axis):
        return np.concatenate(arrays, axis)

    def stack_steps(self, arrays):
        return np.stack(arrays, axis=1)

    def rows(self, x):
        return x.reshape(-1, x.shape[2])

    def sum_rows(self, x):
        return x.sum(axis=0)

    def shape(self, x):
        return x.shape

    def dtype(self, x):
        return x.dtype
