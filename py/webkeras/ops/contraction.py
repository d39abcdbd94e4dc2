"""Tensor contractions (keras.ops names): einsum, tensordot, outer, inner, vdot, kron, cross.

einsum reduces to the existing differentiable ops: a repeated label takes a diagonal, a label
no one else needs is summed out, and each pair of operands becomes one batched matmul after
a transpose and reshape. Gradients come from those ops.
"""

import math
import string

import numpy as np

from webkeras.ops.array import moveaxis, stack, unstack
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, result_dtype
from webkeras.ops.numpy import (
    broadcast_shapes, broadcast_to, matmul, multiply, reshape, sum, transpose,
)


# -- einsum ------------------------------------------------------------------------------------
def _parse(subscripts, operands):
    """(one label string per operand, output labels), "..." spelled out as new labels."""
    subscripts = subscripts.replace(" ", "")
    terms, arrow, output = subscripts.partition("->")
    terms = terms.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands; received "
                         f"{len(operands)}.")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    ranks = [x.ndim - (len(t) - 3) for t, x in zip(terms, operands) if "..." in t]
    ellipsis = "".join(spare[:max(ranks, default=0)])
    expanded = []
    for term, x in zip(terms, operands):
        if "..." in term:
            rank = x.ndim - (len(term) - 3)
            term = term.replace("...", ellipsis[len(ellipsis) - rank:] if rank else "")
        if len(term) != x.ndim:
            raise ValueError(f"einsum: term {term!r} has {len(term)} labels for an operand of "
                             f"shape {x.shape}.")
        expanded.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        # Implicit output: the broadcast axes, then every label used once, alphabetically.
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + "".join(sorted(c for c, n in counts.items()
                                           if n == 1 and c not in ellipsis))
    return expanded, output


def _take_diagonals(x, term):
    from webkeras.ops.creation import diagonal

    while len(set(term)) < len(term):
        label = next(c for c in term if term.count(c) > 1)
        first = term.index(label)
        second = term.index(label, first + 1)
        x = diagonal(x, 0, first, second)
        term = term[:first] + term[first + 1:second] + term[second + 1:] + label
    return x, term


def _sum_out(x, term, keep):
    axes = tuple(i for i, c in enumerate(term) if c not in keep)
    if axes:
        x = sum(x, axis=axes)
        term = "".join(c for c in term if c in keep)
    return x, term


def _contract(a, ta, b, tb, keep):
    """One pairwise step: a (labels ta) times b (labels tb), summing shared labels not kept."""
    a, ta = _sum_out(a, ta, set(tb) | keep)
    b, tb = _sum_out(b, tb, set(ta) | keep)
    batch = [c for c in ta if c in tb and c in keep]
    shared = [c for c in ta if c in tb and c not in keep]
    a_only = [c for c in ta if c not in tb]
    b_only = [c for c in tb if c not in ta]
    size = {c: d for c, d in zip(ta, a.shape)}
    for c, d in zip(tb, b.shape):
        size[c] = max(size.get(c, 1), d)

    def arrange(x, term, order):
        x = transpose(x, [term.index(c) for c in order])
        return broadcast_to(x, tuple(size[c] for c in order))

    a = arrange(a, ta, batch + a_only + shared)
    b = arrange(b, tb, batch + shared + b_only)
    n_batch, n_shared = math.prod(size[c] for c in batch), math.prod(size[c] for c in shared)
    a = reshape(a, (n_batch, math.prod(size[c] for c in a_only), n_shared))
    b = reshape(b, (n_batch, n_shared, math.prod(size[c] for c in b_only)))
    out = matmul(a, b)
    labels = batch + a_only + b_only
    return reshape(out, tuple(size[c] for c in labels)), "".join(labels)


def einsum(subscripts, *operands):
    """Einstein summation, as numpy.einsum (explicit or implicit output, "...", diagonals).

    Example:
    >>> keras.ops.einsum("bij,bjk->bik", a, b)  # batched matmul
    """
    operands = [convert_to_tensor(x) for x in operands]
    dtype = result_dtype(*[x.dtype for x in operands])
    terms, output = _parse(subscripts, operands)
    pairs = [_take_diagonals(x, t) for x, t in zip(operands, terms)]
    for i, (x, term) in enumerate(pairs):
        others = set("".join(t for j, (_, t) in enumerate(pairs) if j != i))
        pairs[i] = _sum_out(x, term, others | set(output))
    x, term = pairs[0]
    for i, (y, other) in enumerate(pairs[1:], start=1):
        later = set("".join(t for _, t in pairs[i + 1:]))
        x, term = _contract(x, term, y, other, later | set(output))
    x, term = _sum_out(x, term, set(output))
    missing = [c for c in output if c not in term]
    if missing:
        raise ValueError(f"einsum: output labels {missing} appear in no operand of "
                         f"{subscripts!r}.")
    x = transpose(x, [term.index(c) for c in output]) if output else x
    return x if is_float_dtype(dtype) or x.dtype == dtype else cast(x, dtype)


# -- products ----------------------------------------------------------------------------------
def tensordot(x1, x2, axes=2):
    """Sum of products over `axes` (an int: x1's last and x2's first axes; or two lists)."""
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    if isinstance(axes, int):
        a_axes = list(range(a.ndim - axes, a.ndim))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    a_axes = [i % a.ndim for i in a_axes]
    b_axes = [i % b.ndim for i in b_axes]
    if [a.shape[i] for i in a_axes] != [b.shape[i] for i in b_axes]:
        raise ValueError(f"tensordot: axes {a_axes} of {a.shape} and {b_axes} of {b.shape} "
                         "differ in size.")
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    k = math.prod(a.shape[i] for i in a_axes)
    a2 = reshape(transpose(a, a_free + a_axes), (math.prod(a.shape[i] for i in a_free), k))
    b2 = reshape(transpose(b, b_axes + b_free), (k, math.prod(b.shape[i] for i in b_free)))
    out = reshape(matmul(a2, b2),
                  tuple(a.shape[i] for i in a_free) + tuple(b.shape[i] for i in b_free))
    dtype = result_dtype(a.dtype, b.dtype)
    # matmul computes in float; integer operands give an integer result, as in Keras.
    return out if is_float_dtype(dtype) else cast(out, dtype)


def outer(x1, x2):
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def inner(x1, x2):
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, ([-1], [-1]))


def vdot(x1, x2):
    return sum(multiply(reshape(x1, (-1,)), reshape(x2, (-1,))))


def kron(x1, x2):
    """The Kronecker product: every element of x1 times the whole of x2, in blocks."""
    a, b = convert_to_tensor(x1), convert_to_tensor(x2)
    rank = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (rank - a.ndim) + a.shape)
    b = reshape(b, (1,) * (rank - b.ndim) + b.shape)
    spread_a = reshape(a, tuple(v for d in a.shape for v in (d, 1)))
    spread_b = reshape(b, tuple(v for d in b.shape for v in (1, d)))
    return reshape(multiply(spread_a, spread_b),
                   tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or the z component for 2-vectors), as numpy.cross."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(convert_to_tensor(x1), axisa, -1)
    b = moveaxis(convert_to_tensor(x2), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components; received shapes "
                         f"{a.shape} and {b.shape} (vectors along the last axis).")
    broadcast_shapes(a.shape[:-1], b.shape[:-1])
    ax, ay, *az = unstack(a, axis=-1)
    bx, by, *bz = unstack(b, axis=-1)
    z = ax * by - ay * bx
    if not az and not bz:
        return z
    az = az[0] if az else 0.0
    bz = bz[0] if bz else 0.0
    out = stack([ay * bz - az * by, az * bx - ax * bz, z * 1.0], axis=-1)
    return moveaxis(out, -1, axisc)


def corrcoef(x):
    """Pearson correlation coefficients between the rows (variables) of `x`."""
    from webkeras.ops.numpy import clip, mean, sqrt

    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    if x.ndim == 1:
        x = reshape(x, (1, -1))
    centred = x - mean(x, axis=1, keepdims=True)
    covariance = matmul(centred, transpose(centred))
    scale = sqrt(sum(centred * centred, axis=1))
    return clip(covariance / outer(scale, scale), -1.0, 1.0)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, as numpy.correlate: c[k] = sum_n a[n + k] v[n]."""
    from webkeras.ops.array import flip, getitem, pad, take

    a, v = convert_to_tensor(x1), convert_to_tensor(x2)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate takes 1-D tensors; received {a.shape} and {v.shape}.")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full'; received "
                         f"{mode!r}.")
    n, m = a.shape[0], v.shape[0]
    if m > n:
        # NumPy swaps the operands (and reverses the result) when v is the longer one.
        return flip(correlate(v, a, mode), 0)
    full = pad(a, [(m - 1, m - 1)])
    # Every window of the padded `a` against v: one matmul with a gather of the windows.
    index = np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]
    out = matmul(take(full, index.astype(np.int32), axis=0), v)
    if mode == "full":
        return out
    if mode == "valid":
        return getitem(out, slice(m - 1, n))
    start = (m - 1) // 2
    return getitem(out, slice(start, start + n))
