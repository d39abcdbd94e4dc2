"""Sorting, selection and counting (keras.ops names): argsort, sort, top_k, in_top_k, nonzero,
searchsorted, digitize, bincount.

One primitive, the backend's stable `argsort`; sorted values are gathered with
`take_along_axis`, so gradients flow back to the elements that were picked.
"""

import builtins

import numpy as np

from webkeras.ops.array import _axis_slice, scatter_add_along, take_along_axis
from webkeras.ops.core import cast, convert_to_tensor, make
from webkeras.ops.numpy import (
    _normalize_axes, expand_dims, full, greater, less, less_equal, max, ones_like, reshape,
    sum,
)


def argsort(x, axis=-1):
    """Indices that sort `x` ascending along `axis` (stable: ties keep their order)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    if x.ndim == 0:
        return full((), 0, "int32")
    (axis,) = _normalize_axes(axis, x.ndim)
    return make(x.backend.argsort(x.data, axis, False))


def sort(x, axis=-1):
    """`x` sorted ascending along `axis`; the gradient goes back to each value's place."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    if x.ndim == 0:
        return x
    return take_along_axis(x, argsort(x, axis), axis)


def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their indices: (values, indices).

    Equal values come lowest index first. Example:
    >>> values, indices = keras.ops.top_k(keras.ops.convert_to_tensor([1.0, 5.0, 3.0]), 2)
    """
    x = convert_to_tensor(x)
    k = int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: `k` must be within [0, {x.shape[-1] if x.ndim else 0}] "
                         f"(the size of the last axis); received k={k} for shape {x.shape}.")
    order = make(x.backend.argsort(x.data, x.ndim - 1, True))
    indices = _axis_slice(order, x.ndim - 1, 0, k)
    return take_along_axis(x, indices, -1), indices


def in_top_k(targets, predictions, k):
    """Whether each target class is among the `k` highest predictions of its row (classes
    tied with the k-th are in, as TensorFlow counts them)."""
    predictions = convert_to_tensor(predictions)
    targets = reshape(cast(convert_to_tensor(targets), "int32"), (-1, 1))
    score = take_along_axis(predictions, targets, 1)
    above = sum(cast(greater(predictions, score), "int32"), axis=1)
    return less(above, int(k))


def nonzero(x):
    """A tuple of int32 index tensors, one per axis, of the nonzero elements (reads `x` back:
    the result's size depends on the values)."""
    values = convert_to_tensor(x).numpy()
    return tuple(convert_to_tensor(i.astype(np.int32)) for i in np.nonzero(values))


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion points of `values` into the 1-D ascending `sorted_sequence`."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: `side` must be 'left' or 'right'; received {side!r}.")
    sequence = convert_to_tensor(sorted_sequence)
    if sequence.ndim != 1:
        raise ValueError("searchsorted: `sorted_sequence` must be 1-D; received shape "
                         f"{sequence.shape}.")
    values = convert_to_tensor(values)
    before = (less if side == "left" else less_equal)(sequence, expand_dims(values, -1))
    return sum(cast(before, "int32"), axis=-1)


def digitize(x, bins):
    """The bin of each value: i with bins[i - 1] <= x < bins[i] (ascending `bins`)."""
    return searchsorted(bins, x, side="right")


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (or summed `weights`) of each non-negative integer in `x` (1-D, or 2-D counted
    per row). Reads `x`'s maximum back: the result's length depends on it."""
    if sparse:
        raise NotImplementedError("bincount(sparse=True): webkeras has no sparse tensors.")
    x = cast(convert_to_tensor(x), "int32")
    if x.ndim not in (1, 2):
        raise ValueError(f"bincount takes a 1-D or 2-D tensor; received shape {x.shape}.")
    top = int(max(x).numpy()) if 0 not in x.shape else -1
    length = builtins.max(top + 1, int(minlength))
    updates = ones_like(x) if weights is None else convert_to_tensor(weights)
    if x.ndim == 1:
        return scatter_add_along(x, updates, (length,), 0)
    rows = x.shape[0]
    offsets = convert_to_tensor((np.arange(rows, dtype=np.int32) * length)[:, None])
    flat = scatter_add_along(reshape(x + offsets, (-1,)), reshape(updates, (-1,)),
                             (rows * length,), 0)
    return reshape(flat, (rows, length))


def argpartition(x, kth, axis=-1):
    """Indices that put the kth element in its sorted place, smaller ones before it and
    larger ones after (a full stable argsort is one such order)."""
    return argsort(x, axis=axis)


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of x1 occurs anywhere in x2."""
    from webkeras.ops.numpy import equal, not_equal

    x1, x2 = convert_to_tensor(x1), reshape(convert_to_tensor(x2), (-1,))
    found = greater(sum(cast(equal(expand_dims(x1, -1), x2), "int32"), axis=-1), 0)
    return not_equal(found, True) if invert else found
