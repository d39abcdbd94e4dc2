"""Slicing, joining, padding and gathering ops (keras.ops names), each with its VJP.

Primitives: `strided_slice` <-> `slice_scatter` (each is the other's VJP), `concatenate`
(VJP: slices), `take` <-> `scatter_add`. Everything else here is composed from them.
"""

import builtins
import itertools
import math
import sys
import types

import numpy as np

from webkeras.ops.core import cast, convert_to_tensor, make, result_dtype
from webkeras.ops.numpy import (
    _normalize_axes,
    add,
    broadcast_shapes,
    broadcast_to,
    expand_dims,
    less,
    multiply,
    ones,
    reshape,
    transpose,
    where,
    zeros_like,
)
from webkeras.ops.tape import DeferredGradient
from webkeras.ops.tensor import Tensor


# -- slicing -----------------------------------------------------------------------------------
def _normalize_slice(s, dim):
    start, stop, step = s.indices(dim)
    # A negative step ending before index 0 must say "to the start" (None), not -1 (the end).
    return slice(start, None if stop < 0 else stop, step)


def _slice_shape(slices, shape):
    return tuple(len(range(*s.indices(d))) for s, d in zip(slices, shape))


class SliceGradient(DeferredGradient):
    """A slice's VJP, `values` at `slices` of zeros of `shape`, kept sparse until its tensor
    is reached: the slices an RNN takes of its input (x[:, t] for every step) are then joined
    by one concatenate instead of each being padded to the input's full size (T^2 work)."""

    __slots__ = ("shape", "slices", "values")

    def __init__(self, values, shape, slices):
        self.values, self.shape, self.slices = values, tuple(shape), tuple(slices)

    def position(self):
        """(axis, index) when this is one index of one axis, full elsewhere; else None."""
        picked = [(axis, s) for axis, (s, d) in enumerate(zip(self.slices, self.shape))
                  if s.indices(d) != (0, d, 1)]
        if len(picked) != 1:
            return None
        axis, s = picked[0]
        start, stop, step = s.indices(self.shape[axis])
        return (axis, start) if len(range(start, stop, step)) == 1 else None

    @classmethod
    def dense_sum(cls, pieces):
        positions = [piece.position() for piece in pieces]
        axes = {p[0] for p in positions if p is not None}
        if None in positions or len(axes) != 1:
            total = None
            for piece in pieces:
                dense = slice_scatter(piece.values, piece.shape, piece.slices)
                total = dense if total is None else total + dense
            return total
        (axis,) = axes
        by_index = {}
        for (_, index), piece in zip(positions, pieces):
            by_index[index] = (piece.values if index not in by_index
                               else by_index[index] + piece.values)
        gap = zeros_like(pieces[0].values)
        return concatenate([by_index.get(i, gap) for i in range(pieces[0].shape[axis])], axis)


def strided_slice(x, slices):
    """`x[slices]` for a tuple of Python slices, one per leading axis."""
    x = convert_to_tensor(x)
    slices = tuple(slices) + (slice(None),) * (x.ndim - len(slices))
    slices = tuple(_normalize_slice(s, d) for s, d in zip(slices, x.shape))
    if all(s.indices(d) == (0, d, 1) for s, d in zip(slices, x.shape)):
        return x
    source_shape = x.shape
    return make(x.backend.strided_slice(x.data, slices), (x,),
                lambda g, needs: (SliceGradient(g, source_shape, slices),))


def slice_scatter(values, shape, slices):
    """Zeros of `shape` holding `values` at `slices` (normalised slices, one per axis)."""
    values = convert_to_tensor(values)
    shape, slices = tuple(shape), tuple(slices)
    slices = slices + (slice(None),) * (len(shape) - len(slices))
    slices = tuple(_normalize_slice(s, d) for s, d in zip(slices, shape))
    if _slice_shape(slices, shape) != values.shape:
        raise ValueError(f"slice_scatter: values of shape {values.shape} do not fit "
                         f"slices {slices} of shape {shape}.")
    return make(values.backend.slice_scatter(values.data, shape, slices), (values,),
                lambda g, needs: (strided_slice(g, slices),))


def getitem(x, key):
    """`x[key]` with ints, slices, None, Ellipsis, or one integer tensor/list (a gather)."""
    x = convert_to_tensor(x)
    key = key if isinstance(key, tuple) else (key,)
    if any(_is_index_array(k) for k in key):
        arrays = [i for i, k in enumerate(key) if _is_index_array(k)]
        if len(arrays) != 1 or any(k is Ellipsis or k is None for k in key):
            raise NotImplementedError(
                f"Indexing with {key!r}: only one integer array index (with plain slices "
                "before it) is supported. Use keras.ops.take for other gathers.")
        axis = arrays[0]
        x = strided_slice(x, tuple(k if isinstance(k, slice) else slice(None)
                                   for k in key[:axis]))
        x = take(x, key[axis], axis=axis)
        rest = key[axis + 1:]
        if rest:
            extra = convert_to_tensor(key[axis]).ndim - 1
            x = getitem(x, (slice(None),) * (axis + 1 + extra) + tuple(rest))
        return x
    if builtins.sum(k is Ellipsis for k in key) > 1:
        raise IndexError("An index can only have a single ellipsis ('...').")
    used = builtins.sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > x.ndim:
        raise IndexError(f"Too many indices for a tensor of rank {x.ndim}: {key!r}.")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key = key[:i] + (slice(None),) * (x.ndim - used) + key[i + 1:]
    slices, out_shape, axis = [], [], 0
    for k in key:
        if k is None:
            out_shape.append(1)
            continue
        dim = x.shape[axis]
        if isinstance(k, slice):
            s = _normalize_slice(k, dim)
            slices.append(s)
            out_shape.append(len(range(*s.indices(dim))))
        else:
            index = int(k)
            if not -dim <= index < dim:
                raise IndexError(f"Index {index} is out of bounds for axis {axis} with size "
                                 f"{dim}.")
            index %= dim
            slices.append(slice(index, index + 1, 1))
        axis += 1
    out_shape += list(x.shape[axis:])
    return reshape(strided_slice(x, slices), tuple(out_shape))


def _is_index_array(k):
    if isinstance(k, Tensor):
        return True
    if isinstance(k, (list,)):
        return True
    return hasattr(k, "dtype") and hasattr(k, "shape") and not isinstance(k, slice)


def slice_block(x, start_indices, shape):
    """`keras.ops.slice` (exported under that name): a block of `shape` at `start_indices`."""
    return strided_slice(x, tuple(builtins.slice(int(b), int(b) + int(n), 1)
                                  for b, n in zip(start_indices, shape)))


def flip(x, axis=None):
    x = convert_to_tensor(x)
    axes = _normalize_axes(axis, x.ndim)
    return strided_slice(x, tuple(builtins.slice(None, None, -1) if i in axes
                                  else builtins.slice(None) for i in range(x.ndim)))


# -- joining and splitting ---------------------------------------------------------------------
def concatenate(xs, axis=0):
    xs = [convert_to_tensor(x) for x in xs]
    if not xs:
        raise ValueError("concatenate needs at least one tensor.")
    dtype = result_dtype(*[x.dtype for x in xs])
    xs = [cast(x, dtype) for x in xs]
    rank = xs[0].ndim
    axis = axis % rank
    for x in xs[1:]:
        if x.ndim != rank or any(a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape))
                                 if i != axis):
            raise ValueError(
                "A `Concatenate` layer requires inputs with matching shapes except for the "
                f"concatenation axis. Received: input_shape={[t.shape for t in xs]}")
    if len(xs) == 1:
        return xs[0]
    sizes = [x.shape[axis] for x in xs]

    def vjp(g, needs):
        out, begin = [], 0
        for size, needed in zip(sizes, needs):
            out.append(_axis_slice(g, axis, begin, begin + size) if needed else None)
            begin += size
        return out

    return make(xs[0].backend.concatenate([x.data for x in xs], axis), tuple(xs), vjp)


def _axis_slice(x, axis, begin, end, step=1):
    return strided_slice(x, (builtins.slice(None),) * axis + (builtins.slice(begin, end, step),))


def stack(xs, axis=0):
    xs = [convert_to_tensor(x) for x in xs]
    axis = axis % (xs[0].ndim + 1)
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def split(x, indices_or_sections, axis=0):
    x = convert_to_tensor(x)
    axis = axis % x.ndim
    dim = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if dim % indices_or_sections:
            raise ValueError(f"Cannot split axis {axis} of size {dim} into "
                             f"{indices_or_sections} equal sections.")
        step = dim // indices_or_sections
        bounds = list(range(0, dim + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [dim]
    return [_axis_slice(x, axis, a, b) for a, b in itertools.pairwise(bounds)]


def unstack(x, num=None, axis=0):
    x = convert_to_tensor(x)
    axis = axis % x.ndim
    return [getitem(x, (builtins.slice(None),) * axis + (i,)) for i in range(x.shape[axis])]


# -- padding, tiling ---------------------------------------------------------------------------
def pad(x, pad_width, mode="constant", constant_values=None):
    """`keras.ops.pad`: pad_width is one (before, after) pair per axis; mode "constant",
    "edge", "reflect", "symmetric" or "wrap" (as numpy.pad)."""
    x = convert_to_tensor(x)
    pad_width = _pad_pairs(pad_width, x.ndim)
    if mode in _INDEX_PAD_MODES:
        # Each padded position copies some source position: a gather per padded axis.
        for axis, (before, after) in enumerate(pad_width):
            if before or after:
                index = np.pad(np.arange(x.shape[axis]), (before, after), mode=mode)
                x = take(x, index.astype(np.int32), axis=axis)
        return x
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r} is not supported; use one of "
                                  f"{('constant',) + _INDEX_PAD_MODES}.")
    shape = tuple(d + a + b for d, (a, b) in zip(x.shape, pad_width))
    slices = tuple(builtins.slice(a, a + d, 1) for d, (a, _) in zip(x.shape, pad_width))
    out = slice_scatter(x, shape, slices)
    if constant_values:
        border = 1 - slice_scatter(ones(x.shape, x.dtype), shape, slices)
        out = add(out, multiply(border, constant_values))
    return out


_INDEX_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pad_pairs(pad_width, ndim):
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * ndim
    pairs = [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in pad_width]
    if len(pairs) == 1:
        pairs = pairs * ndim
    if len(pairs) != ndim:
        raise ValueError(f"pad_width has {len(pairs)} entries for a tensor of rank {ndim}.")
    return [(int(a), int(b)) for a, b in pairs]


def tile(x, repeats):
    x = convert_to_tensor(x)
    repeats = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    rank = builtins.max(x.ndim, len(repeats))
    repeats = (1,) * (rank - len(repeats)) + repeats
    x = reshape(x, (1,) * (rank - x.ndim) + x.shape)
    # [d0, d1] -> [r0, d0, r1, d1] by broadcasting, then merge pairs.
    expanded = reshape(x, tuple(v for d in x.shape for v in (1, d)))
    target = tuple(v for r, d in zip(repeats, x.shape) for v in (r, d))
    return reshape(broadcast_to(expanded, target), tuple(r * d for r, d in zip(repeats, x.shape)))


def repeat(x, repeats, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis % x.ndim
    if not isinstance(repeats, int):
        counts = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
        if counts.size != 1:
            # Per-element counts: one gather of each index repeated its count.
            index = np.repeat(np.arange(x.shape[axis]), counts.reshape(-1))
            return take(x, index.astype(np.int32), axis=axis)
        repeats = int(counts.reshape(-1)[0])
    expanded = expand_dims(x, axis + 1)
    target = x.shape[:axis + 1] + (repeats,) + x.shape[axis + 1:]
    shape = x.shape[:axis] + (x.shape[axis] * repeats,) + x.shape[axis + 1:]
    return reshape(broadcast_to(expanded, target), shape)


def moveaxis(x, source, destination):
    x = convert_to_tensor(x)
    source = [s % x.ndim for s in ((source,) if isinstance(source, int) else source)]
    destination = [d % x.ndim for d in ((destination,) if isinstance(destination, int)
                                        else destination)]
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, order)


# -- gathers -----------------------------------------------------------------------------------
def take(x, indices, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis % x.ndim
    # Negative indices count from the end in every backend's take and scatter_add.
    indices = cast(convert_to_tensor(indices), "int32")
    source_shape = x.shape
    return make(x.backend.take(x.data, indices.data, axis), (x,),
                lambda g, needs: (scatter_add_along(indices, g, source_shape, axis),))


def scatter_add_along(indices, updates, shape, axis):
    """Zeros of `shape` with `updates` summed in at `indices` along `axis` (VJP of take)."""
    updates = convert_to_tensor(updates)
    indices = cast(convert_to_tensor(indices), "int32")
    return make(updates.backend.scatter_add(indices.data, updates.data, tuple(shape), axis),
                (updates,), lambda g, needs: (take(g, indices, axis=axis),))


def take_along_axis(x, indices, axis=None):
    """`x`'s values at `indices` along `axis` (numpy.take_along_axis; other axes broadcast).

    One `take` from the flattened tensor, so the gradient is take's scatter-add.
    """
    x = convert_to_tensor(x)
    indices = cast(convert_to_tensor(indices), "int32")
    if axis is None:
        return take(reshape(x, (-1,)), reshape(indices, (-1,)), axis=0)
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: `indices` (shape {indices.shape}) must have the "
                         f"rank of `x` (shape {x.shape}).")
    axis = axis % x.ndim
    x, indices = moveaxis(x, axis, -1), moveaxis(indices, axis, -1)
    n, k = x.shape[-1], indices.shape[-1]
    lead = broadcast_shapes(x.shape[:-1], indices.shape[:-1])
    x, indices = broadcast_to(x, lead + (n,)), broadcast_to(indices, lead + (k,))
    indices = where(less(indices, 0), add(indices, n), indices)
    rows = math.prod(lead)
    offsets = (np.arange(rows, dtype=np.int32) * n).reshape(lead + (1,))
    flat = take(reshape(x, (-1,)), reshape(add(indices, offsets), (-1,)), axis=0)
    return moveaxis(reshape(flat, lead + (k,)), -1, axis)


class _CallableModule(types.ModuleType):
    """Keras has a function `keras.ops.array(x, dtype)`; here `array` is also this module
    (`from webkeras.ops import array` gets it), so the module itself answers the call."""

    def __call__(self, x, dtype=None):
        return convert_to_tensor(x, dtype=dtype)


sys.modules[__name__].__class__ = _CallableModule
