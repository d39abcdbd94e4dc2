"""Shape arithmetic for the kernels: strides, broadcasting, dimension collapsing, grids."""

import math


def contiguous_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def broadcast_shapes(*shapes):
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(rank):
        sizes = {s[d - rank + len(s)] for s in shapes if d - rank + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"Shapes {shapes} cannot be broadcast together.")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_strides(shape, out_shape):
    """Element strides reading an array of `shape` broadcast to `out_shape` (0 = repeat)."""
    lead = len(out_shape) - len(shape)
    own = contiguous_strides(shape)
    return tuple(
        0 if d < lead or shape[d - lead] == 1 else own[d - lead] for d in range(len(out_shape))
    )


def collapse(shape, strides_list):
    """Drop size-1 dims and merge neighbours every input walks contiguously.

    Returns (shape, [strides per input]) describing the same element order with fewer dims.
    """
    merged = []
    for d, size in enumerate(shape):
        if size == 1:
            continue
        strides = [s[d] for s in strides_list]
        if merged and all(p == s * size for p, s in zip(merged[-1][1], strides)):
            merged[-1] = (merged[-1][0] * size, strides)
        else:
            merged.append((size, strides))
    shape = tuple(size for size, _ in merged)
    return shape, [tuple(m[1][k] for m in merged) for k in range(len(strides_list))]


def read_mode(shape, strides):
    """How a kernel reads one input, and the numbers that mode needs in its uniform.

    "contig": index i; "scalar": index 0; "mod": i % n (a trailing block repeated, e.g. a
    bias); "div": i / n (each element repeated n times, e.g. keepdims sums); "t2": a 2-D
    transpose; "strided": the general walk over every dim (slowest: a div/mod per dim).
    The fast modes avoid the per-dim loop, which costs 5-10x on software GPUs (measured).
    """
    strides = tuple(strides)
    if all(s == 0 for s in strides):
        return "scalar", ()
    if strides == contiguous_strides(shape):
        return "contig", ()
    for split in range(1, len(shape)):
        head, tail = shape[:split], shape[split:]
        if strides == (0,) * split + contiguous_strides(tail):
            return "mod", (math.prod(tail),)
        if strides == contiguous_strides(head) + (0,) * (len(shape) - split):
            return "div", (math.prod(tail),)
    if len(shape) == 2 and strides == (1, shape[0]):
        return "t2", (shape[0], shape[1])
    return "strided", strides


def grid(groups, max_per_dim):
    """Spread `groups` workgroups over (x, y, 1) so neither dimension passes the limit."""
    if groups <= max_per_dim:
        return (max(groups, 1), 1, 1)
    y = math.ceil(groups / max_per_dim)
    return (math.ceil(groups / y), y, 1)


def reduce_view(shape, axes):
    """Plan a reduction: (perm or None, outer, reduced, inner).

    Size-1 axes are dropped from `axes`; if the rest are not adjacent, `perm` moves them last.
    """
    axes = [a for a in axes if shape[a] != 1]
    if not axes:
        return None, math.prod(shape), 1, 1
    if axes[-1] - axes[0] + 1 == len(axes):
        outer = math.prod(shape[: axes[0]])
        inner = math.prod(shape[axes[-1] + 1:])
        return None, outer, math.prod(shape[a] for a in axes), inner
    kept = [d for d in range(len(shape)) if d not in axes]
    perm = tuple(kept + axes)
    return perm, math.prod(shape[d] for d in kept), math.prod(shape[a] for a in axes), 1
