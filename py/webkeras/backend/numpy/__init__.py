"""The NumPy backend: the always-there reference every other backend is checked against."""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from webkeras.backend import recurrence
from webkeras.backend.base import Backend
from webkeras.backend.numpy import wasm_kernels
from webkeras.backend.numpy.blas_threads import blas_threads
from webkeras.backend.numpy.optimizer_updates import OptimizerUpdates
from webkeras.backend.numpy.recurrence_arrays import NumpyArrays

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
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "sin": np.sin,
    "cos": np.cos,
    "arcsin": np.arcsin,
    "arctan": np.arctan,
    "log1p": np.log1p,
    "expm1": np.expm1,
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


_DTYPE_NAMES = {}  # np.dtype -> its name

class NumpyBackend(OptimizerUpdates, Backend):
    name = "numpy"

    def __init__(self):
        super().__init__()
        # Under Pyodide: our WASM SIMD kernels for the hot primitives (None natively).
        self.simd = wasm_kernels.kernels()
        self.recurrence_arrays = NumpyArrays(self)

    def _product(self, a, b):
        """np.matmul with the BLAS thread count chosen for its size (see blas_threads)."""
        batch = math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        flops = 2 * batch * a.shape[-2] * a.shape[-1] * b.shape[-1]
        with blas_threads.for_product(flops):
            return np.matmul(a, b)

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
        # str(np.dtype) costs ~30 us and runs for every op's output: look it up instead.
        name = _DTYPE_NAMES.get(x.dtype)
        if name is None:
            name = _DTYPE_NAMES[x.dtype] = str(x.dtype)
        return name

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def unary(self, op, x):
        if op == "relu" and self.simd is not None:
            out = self.simd.relu(x)
            if out is not None:
                return out
        return np.asarray(_UNARY[op](x), dtype=x.dtype)

    def binary(self, op, a, b):
        # A layer's bias added to its output, as Dense and the convolutions do.
        if op == "add" and self.simd is not None:
            out = self.simd.add_bias(a, b)
            if out is not None:
                return out
        out = _BINARY[op](a, b)
        return np.asarray(out) if out.dtype == bool else np.asarray(out, dtype=a.dtype)

    def where(self, condition, a, b):
        return np.where(condition, a, b)

    def clip(self, x, low, high):
        return np.clip(x, low, high).astype(x.dtype, copy=False)

    def isnan(self, x):
        return np.isnan(x)

    def isinf(self, x):
        return np.isinf(x)

    def cast(self, x, dtype):
        return x.astype(dtype)

    def reduce(self, op, x, axis, keepdims):
        # A bias's gradient: the sum over every axis but the last.
        if op == "sum" and self.simd is not None:
            out = self.simd.sum_leading(x, axis, keepdims)
            if out is not None:
                return out
        return np.asarray(_REDUCE[op](x, axis=axis, keepdims=keepdims), dtype=x.dtype)

    def argmax(self, x, axis):
        return np.argmax(x, axis=axis).astype(np.int32)

    def argsort(self, x, axis, descending):
        if not descending:
            return np.argsort(x, axis=axis, kind="stable").astype(np.int32)
        # Stable descending without negating (which overflows the smallest int): sort the
        # reversed array ascending, then reverse the order and map positions back.
        n = x.shape[axis]
        order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        return np.flip(n - 1 - order, axis).astype(np.int32)

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        if self.simd is not None:
            out = self.simd.matmul(a, b, transpose_a, transpose_b)
            if out is not None:
                return out
        return self._product(np.swapaxes(a, -1, -2) if transpose_a else a,
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
        _add_rows(moved, indices.reshape(-1), upd.reshape((indices.size,) + upd.shape[lead:]))
        return out

    def erf(self, x):
        return _erf(x)

    def conv(self, x, kernel, strides, dilation, groups):
        if self.simd is not None:
            out = self.simd.conv(x, kernel, strides, dilation, groups)
            if out is not None:
                return out
        patches = _patches(x, kernel.shape[:-2], strides, dilation, groups)
        y = self._product(patches, _group_kernel(kernel, groups))  # (groups, rows, filters/groups)
        out = _conv_out(x.shape, kernel.shape[:-2], strides, dilation)
        return _ungroup_rows(y, (x.shape[0],) + out)

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        if self.simd is not None:
            out = self.simd.conv_input_grad(grad, kernel, input_shape, strides, dilation, groups)
            if out is not None:
                return out
        size, channels = kernel.shape[:-2], input_shape[-1]
        rows = math.prod(grad.shape[:-1])
        # col2im: one product gives every tap's contribution, then add each tap's block back.
        g = grad.reshape(rows, groups, -1).transpose(1, 0, 2)
        cols = self._product(g, np.swapaxes(_group_kernel(kernel, groups), -1, -2))
        taps, per_group = math.prod(size), kernel.shape[-2]
        cols = cols.reshape(groups, rows, taps, per_group).transpose(1, 2, 0, 3)
        cols = cols.reshape(grad.shape[:-1] + (taps, channels))
        dx = np.zeros(input_shape, dtype=grad.dtype)
        for tap, key in enumerate(_tap_slices(size, strides, dilation, grad.shape[1:-1])):
            dx[key] += cols[..., tap, :]
        return dx

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        if self.simd is not None:
            out = self.simd.conv_kernel_grad(x, grad, kernel_shape, strides, dilation, groups)
            if out is not None:
                return out
        patches = _patches(x, kernel_shape[:-2], strides, dilation, groups)
        g = grad.reshape(-1, groups, grad.shape[-1] // groups).transpose(1, 0, 2)
        dk = self._product(np.swapaxes(patches, -1, -2), g)  # (groups, taps * per_group, fg)
        taps, per_group = math.prod(kernel_shape[:-2]), kernel_shape[-2]
        dk = dk.reshape(groups, taps, per_group, -1).transpose(1, 2, 0, 3)
        return np.ascontiguousarray(dk).reshape(kernel_shape)

    def pool(self, x, mode, pool_size, strides, pads):
        if self.simd is not None:
            out = self.simd.pool(x, mode, pool_size, strides, pads)
            if out is not None:
                return out
        nd = len(pool_size)
        windows = _windows(_pool_pad(x, mode, pads), pool_size, strides, (1,) * nd)
        axes = tuple(range(-nd, 0))
        if mode == "max":
            return windows.max(axis=axes)
        return (windows.sum(axis=axes) / _pool_count(x, pool_size, strides, pads)).astype(
            x.dtype, copy=False)

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        if self.simd is not None:
            out = self.simd.pool_grad(x, y, grad, mode, pool_size, strides, pads)
            if out is not None:
                return out
        nd = len(pool_size)
        spread = (Ellipsis,) + (None,) * nd
        if mode == "max":
            windows = _windows(_pool_pad(x, mode, pads), pool_size, strides, (1,) * nd)
            mask = windows == y[spread]
            count = mask.sum(axis=tuple(range(-nd, 0)), dtype=grad.dtype)
            # Ties in one window share its gradient equally, like the `max` reduction's VJP.
            contrib = mask * (grad / count)[spread]
        else:
            share = (grad / _pool_count(x, pool_size, strides, pads)).astype(grad.dtype)
            contrib = np.broadcast_to(share[spread], share.shape + tuple(pool_size))
        padded = (x.shape[0],) + tuple(d + a + b for d, (a, b) in zip(x.shape[1:-1], pads)) \
            + (x.shape[-1],)
        dx = np.zeros(padded, dtype=grad.dtype)
        taps = itertools.product(*[range(k) for k in pool_size])
        for offset, key in zip(taps, _tap_slices(pool_size, strides, (1,) * nd,
                                                 grad.shape[1:-1])):
            dx[key] += contrib[(Ellipsis,) + offset]
        crop = (slice(None),) + tuple(slice(a, a + d) for d, (a, _) in
                                      zip(x.shape[1:-1], pads))
        return np.ascontiguousarray(dx[crop])

    def rnn_scan(self, cell, inputs, states, recurrent_kernel, recurrent_bias, mask,
                 recurrent_dropout, go_backwards, zero_output_for_mask):
        return recurrence.rnn_scan(self.recurrence_arrays, cell, inputs, states,
                                   recurrent_kernel, recurrent_bias, mask, recurrent_dropout,
                                   go_backwards, zero_output_for_mask)

    def rnn_scan_grad(self, residuals, grad, needs):
        return recurrence.rnn_scan_grad(self.recurrence_arrays, residuals, grad, needs)


def _add_rows(out, rows, updates):
    """np.add.at(out, rows, updates) on a zero `out`, in the same order of summation (so the
    same bits), ~3x faster: np.add.at is slow per row (2.6 ms for M3's 2,560 x 128 embedding
    gradient, 0.9 ms this way). Each row's first update is a plain assignment, only the
    repeats (few, for token ids) go through np.add.at."""
    rows = np.where(rows < 0, rows + out.shape[0], rows)  # take's negative indices
    order = np.argsort(rows, kind="stable")  # stable: a row's updates keep their order
    ranked = rows[order]
    repeat = np.zeros(ranked.shape, dtype=bool)
    np.equal(ranked[1:], ranked[:-1], out=repeat[1:])
    first, rest = order[~repeat], order[repeat]
    out[rows[first]] = updates[first]
    if rest.size:
        np.add.at(out, rows[rest], updates[rest])


def _erf(x):
    """NumPy has no erf: libm's, element by element (exact; fine for activation-sized arrays)."""
    import math

    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.fromiter((math.erf(v) for v in flat), dtype=np.float64, count=flat.size)
    return out.reshape(np.shape(x)).astype(x.dtype)


# -- convolution helpers (channels_last; no Python loops over output positions) ---------------
def _conv_out(shape, size, strides, dilation):
    return tuple((d - (k - 1) * r - 1) // s + 1
                 for d, k, s, r in zip(shape[1:-1], size, strides, dilation))


def _windows(x, size, strides, dilation):
    """A view (batch, *out, channels, *size) of every (strided, dilated) window of x."""
    nd = len(size)
    extent = tuple((k - 1) * r + 1 for k, r in zip(size, dilation))
    view = sliding_window_view(x, extent, axis=tuple(range(1, nd + 1)))
    key = (slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),) \
        + tuple(slice(None, None, r) for r in dilation)
    return view[key]


def _patches(x, size, strides, dilation, groups):
    """im2col: (groups, rows, taps * channels_per_group), tap-major like the kernel."""
    nd = len(size)
    windows = _windows(x, size, strides, dilation)
    lead = windows.shape[:nd + 1]
    per_group = x.shape[-1] // groups
    windows = windows.reshape(lead + (groups, per_group) + tuple(size))
    perm = (nd + 1,) + tuple(range(nd + 1)) + tuple(range(nd + 3, 2 * nd + 3)) + (nd + 2,)
    return windows.transpose(perm).reshape(groups, math.prod(lead), -1)


def _group_kernel(kernel, groups):
    """(*size, per_group, filters) -> (groups, taps * per_group, filters // groups)."""
    taps = math.prod(kernel.shape[:-2])
    k = kernel.reshape(taps, kernel.shape[-2], groups, kernel.shape[-1] // groups)
    return k.transpose(2, 0, 1, 3).reshape(groups, taps * kernel.shape[-2], -1)


def _ungroup_rows(y, lead):
    """(groups, rows, filters/groups) -> (*lead, filters) with filter = group * fg + j."""
    if y.shape[0] == 1:
        return y.reshape(lead + (y.shape[-1],))
    return np.ascontiguousarray(y.transpose(1, 0, 2)).reshape(lead + (-1,))


def _tap_slices(size, strides, dilation, out):
    """For each kernel offset (row-major), the slice of the input that offset reads."""
    for offset in itertools.product(*[range(k) for k in size]):
        yield (slice(None),) + tuple(slice(o * r, o * r + s * (n - 1) + 1, s)
                                     for o, r, s, n in zip(offset, dilation, strides, out))


def _pool_pad(x, mode, pads):
    if not any(a or b for a, b in pads):
        return x
    if mode == "max":
        fill = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
    else:
        fill = 0
    return np.pad(x, [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)], constant_values=fill)


def _pool_count(x, pool_size, strides, pads):
    """How many real (unpadded) entries each average-pooling window holds."""
    if not any(a or b for a, b in pads):
        return x.dtype.type(math.prod(pool_size))
    ones = np.ones((1,) + x.shape[1:-1] + (1,), dtype=x.dtype)
    windows = _windows(_pool_pad(ones, "avg", pads), pool_size, strides, (1,) * len(pool_size))
    return windows.sum(axis=tuple(range(-len(pool_size), 0)))
