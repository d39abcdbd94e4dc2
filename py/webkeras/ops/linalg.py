"""keras.ops.linalg: vector and matrix norms.

Decompositions (inv, det, solve, cholesky, qr, svd, eig) are not here yet: they need backend
primitives with their own VJPs.
"""

import math

from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.numpy import (
    _normalize_axes, abs, max, min, not_equal, power, reshape, sqrt, square, squeeze, sum,
)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (`axis` an int, or None on a 1-D tensor) and matrix norms (`axis` a pair,
    or None on a 2-D tensor): ord None/2/1/inf/-inf/0/p for vectors, None/"fro"/1/-1/inf/-inf
    for matrices. With ord=None and axis=None: the 2-norm of all the elements.

    Example:
    >>> keras.ops.norm(keras.ops.convert_to_tensor([3.0, 4.0]))  # 5.0
    """
    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    if axis is None:
        if ord is None:
            out = sqrt(sum(square(x)))
            return reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: with `ord` set and axis=None, x must be 1-D or 2-D; "
                             f"received shape {x.shape}. Pass `axis`.")
        axis = 0 if x.ndim == 1 else (0, 1)
    axes = _normalize_axes(axis, x.ndim)
    if isinstance(axis, int) or len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) != 2:
        raise ValueError(f"norm: `axis` must be an int or a pair of axes; received {axis}.")
    return _matrix_norm(x, ord, tuple(a % x.ndim for a in axis), keepdims)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    if ord == math.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return cast(sum(cast(not_equal(x, 0), "int32"), axis=axis, keepdims=keepdims), x.dtype)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; pass a pair of axes.")
    return power(sum(power(abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord is None or ord == "fro":
        out = sqrt(sum(square(x), axis=axes, keepdims=True))
    elif ord in (1, -1):
        pick = max if ord == 1 else min
        out = pick(sum(abs(x), axis=rows, keepdims=True), axis=cols, keepdims=True)
    elif ord in (math.inf, -math.inf):
        pick = max if ord > 0 else min
        out = pick(sum(abs(x), axis=cols, keepdims=True), axis=rows, keepdims=True)
    else:
        raise NotImplementedError(f"norm: matrix ord={ord!r} needs a singular value "
                                  "decomposition, which webkeras does not have yet; use "
                                  "'fro', 1, -1, inf or -inf.")
    return out if keepdims else squeeze(out, axes)
