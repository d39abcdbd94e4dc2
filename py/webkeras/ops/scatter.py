"""Scatters and segment reductions (keras.ops names): scatter, scatter_update, slice_update,
segment_sum, segment_max.

All composed from `scatter_add_along` (take's VJP, summing duplicates), `slice_scatter` and
`where`, so gradients reach both the values written and the tensor written into.
"""

import math

import numpy as np

from webkeras.ops.array import scatter_add_along, slice_scatter
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.numpy import (
    expand_dims, full, greater, greater_equal, less, max, multiply, ones, reshape, sum, where,
)


def _flat_indices(indices, shape):
    """(N, k) coordinates into `shape`'s first k axes -> (N,) flat int32 positions."""
    indices = cast(convert_to_tensor(indices), "int32")
    if indices.ndim == 1:
        indices = reshape(indices, (-1, 1))
    k = indices.shape[-1]
    indices = reshape(indices, (-1, k))
    if k > len(shape):
        raise ValueError(f"scatter: indices address {k} axes of a shape {tuple(shape)}.")
    strides = [math.prod(shape[i + 1:k]) for i in range(k)]
    flat = sum(multiply(indices, convert_to_tensor(np.asarray(strides, np.int32))), axis=-1)
    return flat, k


def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (each row a coordinate of the
    first k axes); duplicate coordinates sum."""
    shape = tuple(int(d) for d in shape)
    flat, k = _flat_indices(indices, shape)
    values = convert_to_tensor(values)
    values = reshape(values, (flat.shape[0],) + shape[k:])
    out = scatter_add_along(flat, values, (math.prod(shape[:k]),) + shape[k:], 0)
    return reshape(out, shape)


def scatter_update(inputs, indices, updates):
    """`inputs` with the entries at `indices` replaced by `updates`."""
    inputs = convert_to_tensor(inputs)
    updates = cast(convert_to_tensor(updates), inputs.dtype)
    flat, k = _flat_indices(indices, inputs.shape)
    hits = scatter(reshape(flat, (-1, 1)), ones((flat.shape[0],), "float32"),
                   (math.prod(inputs.shape[:k]),))
    hit = reshape(greater(hits, 0.0), inputs.shape[:k] + (1,) * (inputs.ndim - k))
    written = scatter(indices, updates, inputs.shape)
    return where(hit, written, inputs)


def slice_update(inputs, start_indices, updates):
    """`inputs` with the block at `start_indices` replaced by `updates`."""
    inputs, updates = convert_to_tensor(inputs), convert_to_tensor(updates)
    updates = cast(updates, inputs.dtype)
    starts = [int(s) for s in (start_indices.numpy() if hasattr(start_indices, "numpy")
                               else start_indices)]
    slices = tuple(slice(s, s + d, 1) for s, d in zip(starts, updates.shape))
    mask = np.zeros(inputs.shape, bool)
    mask[slices] = True
    return where(convert_to_tensor(mask), slice_scatter(updates, inputs.shape, slices), inputs)


def _segments(data, segment_ids, num_segments):
    data = convert_to_tensor(data)
    ids = cast(convert_to_tensor(segment_ids), "int32")
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment ops: `segment_ids` must be 1-D with one id per row of "
                         f"`data`; received shapes {ids.shape} and {data.shape}.")
    if num_segments is None:
        # The output size depends on the ids: read their maximum back.
        num_segments = int(max(ids).numpy()) + 1 if ids.shape[0] else 0
    return data, ids, int(num_segments)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of the rows of `data` sharing a segment id; ids outside [0, num_segments) are
    dropped (as jax.ops.segment_sum)."""
    data, ids, count = _segments(data, segment_ids, num_segments)
    valid = cast(greater_equal(ids, 0), "int32") * cast(less(ids, count), "int32")
    keep = reshape(cast(valid, data.dtype), (-1,) + (1,) * (data.ndim - 1))
    return scatter_add_along(ids * valid, data * keep, (count,) + data.shape[1:], 0)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of the rows of `data` sharing a segment id (-inf, or the dtype's minimum,
    for an empty segment). Builds an (n, segments, ...) mask: for moderate sizes."""
    from webkeras.ops.nn import one_hot

    data, ids, count = _segments(data, segment_ids, num_segments)
    member = greater(one_hot(ids, count, dtype="float32"), 0.0)
    member = reshape(member, member.shape + (1,) * (data.ndim - 1))
    lowest = -np.inf if is_float_dtype(data.dtype) else np.iinfo(np.int32).min
    spread = where(member, expand_dims(data, 1), full((), lowest, data.dtype))
    return max(spread, axis=0)
