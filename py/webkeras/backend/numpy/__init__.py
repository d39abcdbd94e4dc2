"""The NumPy backend: the always-there reference every other backend is checked against."""

import numpy as np

from webkeras.backend.base import Backend

_UNARY = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "square": np.square,
    "reciprocal": np.reciprocal,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 0.5 * (np.tanh(0.5 * x) + 1),
    "tanh": np.tanh,
}
_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "pow": np.power,
    "equal": np.equal,
    "not_equal": np.not_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "less": np.less,
    "less_equal": np.less_equal,
}
_REDUCE = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}


class NumpyBackend(Backend):
    name = "numpy"

    def from_numpy(self, array):
        array = np.asarray(array)
        if array.dtype == np.int64:
            array = array.astype(np.int32)
        return array

    def to_numpy(self, x):
        # A copy: variables are updated in place, so a view would change under the caller.
        return np.array(x, copy=True)

    def shape(self, x):
        return tuple(x.shape)

    def dtype(self, x):
        return str(x.dtype)

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def unary(self, op, x):
        return np.asarray(_UNARY[op](x), dtype=x.dtype)

    def binary(self, op, a, b):
        out = _BINARY[op](a, b)
        return np.asarray(out) if out.dtype == bool else np.asarray(out, dtype=a.dtype)

    def where(self, condition, a, b):
        return np.where(condition, a, b)

    def clip(self, x, low, high):
        return np.clip(x, low, high).astype(x.dtype, copy=False)

    def cast(self, x, dtype):
        return x.astype(dtype)

    def reduce(self, op, x, axis, keepdims):
        return np.asarray(_REDUCE[op](x, axis=axis, keepdims=keepdims), dtype=x.dtype)

    def argmax(self, x, axis):
        return np.argmax(x, axis=axis).astype(np.int32)

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        return np.matmul(np.swapaxes(a, -1, -2) if transpose_a else a,
                         np.swapaxes(b, -1, -2) if transpose_b else b)

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, perm):
        return np.asarray(np.transpose(x, perm), order="C")

    def broadcast_to(self, x, shape):
        return np.asarray(np.broadcast_to(x, shape), order="C")

    def softmax(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    def log_softmax(self, x):
        shifted = x - np.max(x, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))

    def one_hot(self, indices, depth, dtype):
        return (indices[..., None] == np.arange(depth)).astype(dtype)

    def assign(self, target, value):
        target[...] = value

    def sgd_update(self, var, grad, velocity, learning_rate, momentum, nesterov):
        lr = var.dtype.type(learning_rate)
        if velocity is None:
            var -= lr * grad
            return
        velocity *= var.dtype.type(momentum)
        velocity -= lr * grad
        if nesterov:
            var += var.dtype.type(momentum) * velocity - lr * grad
        else:
            var += velocity

    def adam_update(self, var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step):
        t = var.dtype.type
        alpha = t(learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step))
        m += (grad - m) * t(1 - beta_1)
        v += (np.square(grad) - v) * t(1 - beta_2)
        var -= alpha * m / (np.sqrt(v) + t(epsilon))

    def strided_slice(self, x, slices):
        return np.ascontiguousarray(x[tuple(slices)])

    def slice_scatter(self, values, shape, slices):
        out = np.zeros(shape, dtype=values.dtype)
        out[tuple(slices)] = values
        return out

    def concatenate(self, arrays, axis):
        return np.concatenate(arrays, axis=axis)

    def take(self, x, indices, axis):
        return np.take(x, indices, axis=axis)

    def scatter_add(self, indices, updates, shape, axis):
        out = np.zeros(shape, dtype=updates.dtype)
        moved = np.moveaxis(out, axis, 0)
        # Move the gathered axes of `updates` to the front to match `moved[indices]`.
        lead = indices.ndim
        upd = np.moveaxis(updates, tuple(range(axis, axis + lead)), tuple(range(lead)))
        np.add.at(moved, indices, upd)
        return out

    def erf(self, x):
        return _erf(x)


def _erf(x):
    """NumPy has no erf: libm's, element by element (exact; fine for activation-sized arrays)."""
    import math

    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.fromiter((math.erf(v) for v in flat), dtype=np.float64, count=flat.size)
    return out.reshape(np.shape(x)).astype(x.dtype)
