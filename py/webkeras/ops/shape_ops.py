"""Rearranging ops (keras.ops names) composed from slices, joins and transposes: roll, ravel,
ndim, append, hstack/vstack/dstack, array_split/hsplit/vsplit, rot90, unravel_index.

Every one is a composition of differentiable ops, so gradients come from those.
"""

from webkeras.ops.array import _axis_slice, concatenate, flip, split
from webkeras.ops.core import convert_to_tensor
from webkeras.ops.elementwise import floor_divide, mod
from webkeras.ops.numpy import _normalize_axes, reshape, transpose


def ravel(x):
    return reshape(x, (-1,))


def ndim(x):
    return convert_to_tensor(x).ndim


def roll(x, shift, axis=None):
    """Elements shifted by `shift` along `axis` (of the flattened tensor when None), those
    pushed past the end coming back at the start."""
    x = convert_to_tensor(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), x.shape)
    shifts = (shift,) if isinstance(shift, int) else tuple(shift)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes; give one shift, "
                         "or one per axis.")
    for s, a in zip(shifts, axes):
        a = a % x.ndim
        n = x.shape[a]
        s = int(s) % n if n else 0
        if s:
            x = concatenate([_axis_slice(x, a, n - s, n), _axis_slice(x, a, 0, n - s)], axis=a)
    return x


def append(x1, x2, axis=None):
    if axis is None:
        return concatenate([ravel(x1), ravel(x2)], axis=0)
    return concatenate([x1, x2], axis=axis)


def _at_least(x, rank):
    x = convert_to_tensor(x)
    if x.ndim >= rank:
        return x
    if rank == 2:
        return reshape(x, (1,) * (2 - x.ndim) + x.shape)
    # rank 3, as numpy.atleast_3d: (n,) -> (1, n, 1), (m, n) -> (m, n, 1).
    shape = {0: (1, 1, 1), 1: (1,) + x.shape + (1,), 2: x.shape + (1,)}[x.ndim]
    return reshape(x, shape)


def hstack(xs):
    xs = [convert_to_tensor(x) for x in xs]
    return concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


def vstack(xs):
    return concatenate([_at_least(x, 2) for x in xs], axis=0)


def dstack(xs):
    return concatenate([_at_least(x, 3) for x in xs], axis=2)


def array_split(x, indices_or_sections, axis=0):
    """split(), where equal sections need not divide the axis: the first ones get one more."""
    x = convert_to_tensor(x)
    if not isinstance(indices_or_sections, int):
        return split(x, indices_or_sections, axis)
    axis = axis % x.ndim
    n, parts = x.shape[axis], indices_or_sections
    if parts <= 0:
        raise ValueError(f"array_split: the number of sections must be > 0; received {parts}.")
    size, extra = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return [_axis_slice(x, axis, a, b) for a, b in zip(bounds, bounds[1:])]


def hsplit(x, indices_or_sections):
    x = convert_to_tensor(x)
    return split(x, indices_or_sections, axis=0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def rot90(array, k=1, axes=(0, 1)):
    """`array` turned by 90 degrees `k` times in the plane `axes` (as numpy.rot90)."""
    x = convert_to_tensor(array)
    a, b = _normalize_axes(axes[0], x.ndim)[0], _normalize_axes(axes[1], x.ndim)[0]
    if a == b:
        raise ValueError(f"rot90: `axes` must name two different axes; received {axes}.")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a), b)
    perm = list(range(x.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(flip(x, b), perm) if k == 1 else flip(transpose(x, perm), b)


def unravel_index(indices, shape):
    """The coordinates in `shape` of each flat index: a tuple of int32 tensors."""
    indices = convert_to_tensor(indices, dtype="int32")
    coords = []
    for dim in reversed(tuple(shape)):
        coords.append(mod(indices, dim))
        indices = floor_divide(indices, dim)
    return tuple(reversed(coords))
