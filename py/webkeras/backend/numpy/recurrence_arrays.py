"""The fused recurrence's array calls in plain NumPy (see backend/recurrence.py): slices are
views and the arithmetic skips the primitives' dtype checks; products stay the backend's."""

import numpy as np

from webkeras.backend.recurrence import Arrays


class NumpyArrays(Arrays):
    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def one_minus(self, x):
        return 1 - x

    def tanh(self, x):
        return np.tanh(x)

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

    def sum_rows(self, x):
        return x.sum(axis=0)

    def shape(self, x):
        return x.shape

    def dtype(self, x):
        return x.dtype
