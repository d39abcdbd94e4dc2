"""Reductions and scans beyond sum/mean/max/min (keras.ops names): prod, any, all, var, std,
argmin, count_nonzero, logsumexp, cumsum, cumprod, average, ptp, median, quantile.

All composed from differentiable ops. Products and scans run in log2(n) steps of whole-tensor
ops (a pairwise tree; a Hillis-Steele scan), so they stay on the device and their gradients
are exact even where an input is zero.
"""

import math

import numpy as np

from webkeras.ops.array import _axis_slice, concatenate, moveaxis, take
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, stop_gradient
from webkeras.ops.numpy import (
    _kept_shape, _normalize_axes, argmax, broadcast_to, equal, exp, full, greater, log, max,
    mean, min, multiply, negative, not_equal, reshape, sqrt, square, squeeze, subtract, sum, where,
)


def _merge_axes(x, axis):
    """(x with the reduced axes merged into one last axis, the reduced axes)."""
    axes = _normalize_axes(axis, x.ndim)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = moveaxis(x, axes, tuple(range(len(rest), x.ndim))) if axes else x
    merged = tuple(x.shape[a] for a in rest) + (math.prod(x.shape[a] for a in axes),)
    return reshape(moved, merged), axes


def _keep(out, x, axes, keepdims):
    return reshape(out, _kept_shape(x.shape, axes)) if keepdims else out


def _pairwise(x):
    """The product over the last axis by a tree of multiplies."""
    last = x.ndim - 1
    while x.shape[-1] > 1:
        n = x.shape[-1]
        if n % 2:
            x = concatenate([x, full(x.shape[:-1] + (1,), 1, x.dtype)], axis=-1)
            n += 1
        x = multiply(_axis_slice(x, last, 0, n, 2), _axis_slice(x, last, 1, n, 2))
    if x.shape[-1] == 0:
        return full(x.shape[:-1], 1, x.dtype)
    return squeeze(x, -1)


def prod(x, axis=None, keepdims=False, dtype=None):
    """The product of the elements over `axis` (all axes when None)."""
    x = convert_to_tensor(x)
    x = cast(x, dtype) if dtype is not None else (cast(x, "int32") if x.dtype == "bool" else x)
    merged, axes = _merge_axes(x, axis)
    return _keep(_pairwise(merged), x, axes, keepdims)


def _count(x, axis, keepdims, test):
    return sum(cast(test(convert_to_tensor(x), 0), "int32"), axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Whether any element over `axis` is nonzero (False for an empty axis)."""
    return greater(_count(x, axis, keepdims, not_equal), 0)


def all(x, axis=None, keepdims=False):
    """Whether every element over `axis` is nonzero (True for an empty axis)."""
    return equal(_count(x, axis, keepdims, equal), 0)


def count_nonzero(x, axis=None):
    return _count(x, axis, False, not_equal)


def var(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    centred = x - mean(x, axis=axis, keepdims=True)
    return mean(square(centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False):
    """Index of the (first) minimum along `axis`; of the flattened tensor when None."""
    x = convert_to_tensor(x)
    # The first maximum of -x is the first minimum of x.
    return argmax(negative(x if x.dtype != "bool" else cast(x, "int32")), axis, keepdims)


def ptp(x, axis=None, keepdims=False):
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, shifted by the maximum so nothing overflows."""
    from webkeras.ops.elementwise import isfinite

    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    shift = stop_gradient(max(x, axis=axis, keepdims=True))
    # An all -inf slice would give -inf - -inf = NaN; shift it by 0 instead.
    shift = where(isfinite(shift), shift, 0.0)
    out = log(sum(exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else squeeze(out, _normalize_axes(axis, x.ndim))


def average(x, axis=None, weights=None):
    """The mean over `axis`, weighted by `weights` (x's shape, or 1-D along `axis`)."""
    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    if weights is None:
        return mean(x, axis=axis)
    weights = cast(convert_to_tensor(weights), x.dtype)
    if weights.shape != x.shape:
        if weights.ndim != 1 or axis is None or isinstance(axis, (tuple, list)):
            raise ValueError(f"average: weights of shape {weights.shape} must match x "
                             f"{x.shape}, or be 1-D along an integer `axis`.")
        weights = reshape(weights, tuple(-1 if i == axis % x.ndim else 1
                                         for i in range(x.ndim)))
    total = sum(x * weights, axis=axis)
    return total / sum(broadcast_to(weights, x.shape), axis=axis)


# -- scans -------------------------------------------------------------------------------------
def _scan(x, axis, combine, fill):
    """Inclusive scan along `axis` in log2(n) steps: x_i <- x_i (op) x_(i - shift)."""
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis % x.ndim
    n, shift = x.shape[axis], 1
    while shift < n:
        pad = full(x.shape[:axis] + (shift,) + x.shape[axis + 1:], fill, x.dtype)
        shifted = concatenate([pad, _axis_slice(x, axis, 0, n - shift)], axis=axis)
        x = combine(x, shifted)
        shift *= 2
    return x


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (of the flattened tensor when None)."""
    x = convert_to_tensor(x)
    x = cast(x, dtype) if dtype is not None else (cast(x, "int32") if x.dtype == "bool" else x)
    return _scan(x, axis, lambda a, b: a + b, 0)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (of the flattened tensor when None)."""
    x = convert_to_tensor(x)
    x = cast(x, dtype) if dtype is not None else (cast(x, "int32") if x.dtype == "bool" else x)
    return _scan(x, axis, multiply, 1)


# -- order statistics --------------------------------------------------------------------------
_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantiles (q in [0, 1], scalar or 1-D) over `axis`, as numpy.quantile."""
    from webkeras.ops.sorting import sort

    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: `method` must be one of {_QUANTILE_METHODS}; received "
                         f"{method!r}.")
    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    q = np.asarray(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64)
    if q.ndim > 1 or np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantile: `q` must be a scalar or 1-D, within [0, 1]; received {q}.")
    merged, axes = _merge_axes(x, axis)
    ordered = sort(merged, axis=-1)
    position = q.reshape(-1) * (merged.shape[-1] - 1)
    low, high = np.floor(position).astype(np.int32), np.ceil(position).astype(np.int32)
    frac = position - low
    if method == "lower":
        high, frac = low, frac * 0
    elif method == "higher":
        low, frac = high, frac * 0
    elif method == "midpoint":
        frac = np.where(high > low, 0.5, 0.0)
    elif method == "nearest":
        # NumPy's "nearest" rounds half to even, like np.around.
        low = high = np.around(position).astype(np.int32)
        frac = frac * 0
    a, b = take(ordered, low, axis=-1), take(ordered, high, axis=-1)
    out = a + (b - a) * convert_to_tensor(frac.astype(np.float32), dtype=x.dtype)
    # NumPy puts q's axis first.
    out = moveaxis(out, -1, 0)
    if keepdims:
        out = reshape(out, (len(position),) + _kept_shape(x.shape, axes))
    return squeeze(out, 0) if q.ndim == 0 else out


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


# -- differences, integrals, NaN-skipping reductions -------------------------------------------
def diff(a, n=1, axis=-1):
    """The n-th discrete difference along `axis`: a[1:] - a[:-1], n times."""
    a = convert_to_tensor(a)
    axis = axis % a.ndim
    for _ in range(int(n)):
        size = a.shape[axis]
        a = subtract(_axis_slice(a, axis, 1, size), _axis_slice(a, axis, 0, size - 1))
    return a


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y (sampled at x, or every dx) by the trapezoidal rule along `axis`."""
    y = convert_to_tensor(y)
    y = y if is_float_dtype(y.dtype) else cast(y, "float32")
    axis = axis % y.ndim
    size = y.shape[axis]
    mids = (_axis_slice(y, axis, 1, size) + _axis_slice(y, axis, 0, size - 1)) * 0.5
    if x is None:
        return sum(mids, axis=axis) * float(dx)
    x = cast(convert_to_tensor(x), y.dtype)
    widths = diff(x, axis=-1 if x.ndim == 1 else axis)
    if x.ndim == 1:
        widths = reshape(widths, tuple(-1 if i == axis else 1 for i in range(y.ndim)))
    return sum(mids * widths, axis=axis)


def _nan_filled(x, fill):
    from webkeras.ops.elementwise import isnan

    x = convert_to_tensor(x)
    return where(isnan(x), fill, x) if is_float_dtype(x.dtype) else x


def nansum(x, axis=None, keepdims=False):
    return sum(_nan_filled(x, 0.0), axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    return prod(_nan_filled(x, 1.0), axis=axis, keepdims=keepdims)


def nanmax(x, axis=None, keepdims=False):
    return max(_nan_filled(x, -np.inf), axis=axis, keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    return min(_nan_filled(x, np.inf), axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    from webkeras.ops.elementwise import isnan

    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    count = sum(cast(isnan(x), x.dtype) * -1.0 + 1.0, axis=axis, keepdims=keepdims)
    return nansum(x, axis=axis, keepdims=keepdims) / count
