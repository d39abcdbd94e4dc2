"""Tensor creation and diagonals (keras.ops names): arange, linspace, eye, tri, tril/triu,
meshgrid, diag, diagonal, trace.

Ranges and masks are built on the host (they depend only on Python numbers) and uploaded
once; everything that reads a tensor is composed from differentiable ops, so `tril(x)` or
`diagonal(x)` pass gradients back to `x`.
"""

import builtins

import numpy as np

from webkeras.backend import floatx
from webkeras.ops.array import moveaxis, take
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make, standardize_dtype
from webkeras.ops.elementwise import floor
from webkeras.ops.numpy import add, broadcast_to, full, multiply, power, reshape, sum, where, zeros


def _python_number(value, name):
    if hasattr(value, "shape") and tuple(value.shape) == ():
        value = convert_to_tensor(value).numpy().item()
    if not isinstance(value, (int, float, np.number)):
        raise TypeError(f"`{name}` must be a Python number or a scalar tensor; received "
                        f"{type(value).__name__} {value!r:.80}.")
    return value


def _default_dtype(*values):
    """int32 when every bound is an integer, else floatx (Keras's result_type of the bounds)."""
    if builtins.all(isinstance(v, (int, np.integer)) for v in values if v is not None):
        return "int32"
    return floatx()


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop), as `numpy.arange`.

    Example:
    >>> keras.ops.arange(start=0, stop=5, step=1)  # int32 [0 1 2 3 4]
    """
    start = _python_number(start, "start")
    stop = None if stop is None else _python_number(stop, "stop")
    step = _python_number(step, "step")
    if step == 0:
        raise ValueError("arange: `step` must not be 0.")
    dtype = standardize_dtype(dtype) or _default_dtype(start, stop, step)
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return convert_to_tensor(values.astype(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """`num` evenly spaced values from start to stop (tensors allowed, and differentiable)."""
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: `num` must be non-negative, received {num}.")
    div = (num - 1) if endpoint else num
    step_count = np.arange(num, dtype=np.float64)
    if not hasattr(start, "shape") and not hasattr(stop, "shape"):
        values = np.linspace(start, stop, num, endpoint=endpoint, axis=axis)
        step = (stop - start) / div if div > 0 else float("nan")
        out = convert_to_tensor(values.astype(np.float32) if values.dtype == np.float64
                                else values)
    else:
        start, stop = convert_to_tensor(start), convert_to_tensor(stop)
        if not is_float_dtype(start.dtype):
            start = cast(start, floatx())
        stop = cast(stop, start.dtype)
        delta = stop - start
        step = delta / float(div) if div > 0 else delta * float("nan")
        fraction = step_count / div if div > 0 else step_count * 0.0
        shape = (num,) + (1,) * builtins.max(start.ndim, stop.ndim)
        fraction = convert_to_tensor(fraction.reshape(shape), dtype=start.dtype)
        out = moveaxis(add(start, multiply(fraction, delta)), 0, axis)
        if endpoint and num > 1:
            # The last value is exactly `stop`, as NumPy makes it.
            mask = np.zeros(out.shape[axis % out.ndim], bool)
            mask[-1] = True
            mask = reshape(convert_to_tensor(mask), tuple(
                -1 if i == axis % out.ndim else 1 for i in range(out.ndim)))
            out = where(mask, _expand_to(stop, out.ndim, axis), out)
    if dtype is not None:
        dtype = standardize_dtype(dtype)
        if not is_float_dtype(dtype):
            out = floor(out)
        out = cast(out, dtype)
    return (out, step) if retstep else out


def _expand_to(x, ndim, axis):
    """`x` with a new axis at `axis` of the result rank `ndim` (linspace's stop value)."""
    x = convert_to_tensor(x)
    axis = axis % ndim
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    out = power(float(base), linspace(start, stop, num, endpoint=endpoint, axis=axis))
    return cast(out, dtype) if dtype is not None else out


def _mask(rows, cols, k):
    """(rows, cols) bool: True on and below diagonal k (numpy.tri)."""
    return np.tri(rows, cols, k, dtype=bool)


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on diagonal `k` and zeros elsewhere."""
    M = N if M is None else M
    return convert_to_tensor(np.eye(int(N), int(M), int(k), dtype=standardize_dtype(dtype)
                                    or floatx()))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones on and below diagonal `k`, zeros above."""
    M = N if M is None else M
    return convert_to_tensor(_mask(int(N), int(M), int(k)).astype(standardize_dtype(dtype)
                                                                 or floatx()))


def _triangle(x, k, lower):
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'} needs a tensor of rank >= 2; "
                         f"received shape {x.shape}.")
    rows, cols = x.shape[-2:]
    keep = _mask(rows, cols, k) if lower else ~_mask(rows, cols, k - 1)
    return where(convert_to_tensor(keep), x, zeros((), x.dtype))


def tril(x, k=0):
    """`x` with the entries above diagonal `k` (of the last two axes) set to zero."""
    return _triangle(x, int(k), lower=True)


def triu(x, k=0):
    """`x` with the entries below diagonal `k` (of the last two axes) set to zero."""
    return _triangle(x, int(k), lower=False)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors; "xy" swaps the first two output axes (Cartesian)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij'; received {indexing!r}.")
    xs = [reshape(convert_to_tensor(v), (-1,)) for v in x]
    shape = [v.shape[0] for v in xs]
    if indexing == "xy" and len(xs) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(xs):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(xs) > 1 else i
        view = [1] * len(xs)
        view[axis] = -1
        grids.append(broadcast_to(reshape(v, tuple(view)), tuple(shape)))
    return grids


def full_like(x, fill_value, dtype=None):
    x = convert_to_tensor(x)
    return full(x.shape, fill_value, standardize_dtype(dtype) or x.dtype)


def empty(shape, dtype=None):
    """Zeros: the backends have no uninitialised memory to hand out."""
    return zeros(shape, standardize_dtype(dtype) or floatx())


def empty_like(x, dtype=None):
    return full_like(x, 0, dtype)


def copy(x):
    x = convert_to_tensor(x)
    # A cast to the same dtype writes a new array on every backend (a Variable's copy must
    # not change when the variable is assigned).
    return make(x.backend.cast(x.data, x.dtype), (x,), lambda g, needs: (g,))


# -- diagonals ---------------------------------------------------------------------------------
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal `offset` of the plane (axis1, axis2), as the last axis of the result."""
    x = convert_to_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal needs a tensor of rank >= 2; received shape {x.shape}.")
    x = moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = x.shape[-2:]
    start_row, start_col = builtins.max(0, -offset), builtins.max(0, offset)
    length = builtins.max(0, builtins.min(rows - start_row, cols - start_col))
    positions = (np.arange(length) + start_row) * cols + np.arange(length) + start_col
    flat = reshape(x, x.shape[:-2] + (rows * cols,))
    return take(flat, positions.astype(np.int32), axis=-1)


def diag(x, k=0):
    """A 1-D tensor's values on diagonal `k` of a square matrix, or a matrix's diagonal `k`."""
    x = convert_to_tensor(x)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag takes a 1-D or 2-D tensor; received shape {x.shape}.")
    n = x.shape[0] + builtins.abs(k)
    # Column j of the square result holds x[j - k] on row j - k (k >= 0); spread, then mask.
    spread = np.zeros((n * n,), np.int32)
    rows = np.arange(x.shape[0]) + builtins.max(0, -k)
    cols = np.arange(x.shape[0]) + builtins.max(0, k)
    spread[rows * n + cols] = np.arange(x.shape[0])
    mask = np.zeros((n * n,), bool)
    mask[rows * n + cols] = True
    values = take(x, spread, axis=0)
    return reshape(where(convert_to_tensor(mask), values, zeros((), x.dtype)), (n, n))


def diagflat(x, k=0):
    return diag(reshape(convert_to_tensor(x), (-1,)), k)


def trace(x, offset=0, axis1=0, axis2=1):
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def vander(x, N=None, increasing=False):
    """Columns are powers of the 1-D `x`: x**(N-1), ..., x, 1 (reversed if increasing)."""
    x = convert_to_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D; received shape {x.shape}.")
    n = x.shape[0] if N is None else int(N)
    exponents = np.arange(n) if increasing else np.arange(n)[::-1]
    base = reshape(x if is_float_dtype(x.dtype) else cast(x, floatx()), (-1, 1))
    out = power(base, convert_to_tensor(exponents.astype(np.float32), dtype=base.dtype))
    return out if is_float_dtype(x.dtype) else cast(out, x.dtype)


# -- window functions (keras.ops names; sizes are Python ints, built on the host) -------------
def _window(values):
    return convert_to_tensor(values.astype(floatx()))


def bartlett(x):
    return _window(np.bartlett(int(x)))


def blackman(x):
    return _window(np.blackman(int(x)))


def hamming(x):
    return _window(np.hamming(int(x)))


def hanning(x):
    return _window(np.hanning(int(x)))


def kaiser(x, beta):
    return _window(np.kaiser(int(x), float(beta)))
