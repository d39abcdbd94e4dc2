"""NumPy-style ops (keras.ops names). Each primitive sits next to its VJP."""

import builtins
import math

from webkeras.ops.core import (
    cast,
    convert_to_tensor,
    is_float_dtype,
    make,
    result_dtype,
    stop_gradient,
)
from webkeras.ops.tape import record
from webkeras.ops.tensor import Tensor

# What `from webkeras.ops.numpy import *` gives keras.ops: this module's ops, not its imports.
__all__ = [
    "abs", "absolute", "add", "amax", "amin", "argmax", "broadcast_shapes", "broadcast_to",
    "clip", "divide", "divide_no_nan", "dot", "equal", "exp", "expand_dims", "full", "greater",
    "greater_equal", "less", "less_equal", "log", "matmul", "max", "maximum", "mean", "min",
    "minimum", "multiply", "negative", "not_equal", "ones", "ones_like", "power", "reciprocal",
    "reshape", "sign", "size", "sqrt", "square", "squeeze", "subtract", "sum", "swapaxes",
    "tanh", "transpose", "true_divide", "unbroadcast", "where", "zeros", "zeros_like",
]


def _binary_operands(a, b):
    # Python scalars take the other operand's dtype (weak typing, as in Keras/JAX).
    if isinstance(a, Tensor) and not isinstance(b, Tensor) and _is_scalar(b):
        return a, _constant(b, _scalar_dtype(a.dtype, b))
    if isinstance(b, Tensor) and not isinstance(a, Tensor) and _is_scalar(a):
        return _constant(a, _scalar_dtype(b.dtype, a)), b
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    if a.dtype != b.dtype:
        dtype = result_dtype(a.dtype, b.dtype)
        a, b = cast(a, dtype), cast(b, dtype)
    return a, b


_constants = {}


def _constant(value, dtype):
    """A cached scalar tensor: loss and metric code uses the same literals every step, and
    uploading each one again would cost a device write per literal per step. Ops never
    write into their inputs, so sharing is safe."""
    from webkeras.backend import get_backend

    backend = get_backend()
    key = (id(backend), type(value), value, dtype)
    tensor = _constants.get(key)
    if tensor is None or tensor.backend is not backend:
        if len(_constants) > 1024:
            _constants.clear()
        tensor = _constants[key] = convert_to_tensor(value, dtype=dtype)
    return tensor


def _is_scalar(x):
    return isinstance(x, (int, float, bool))


def _scalar_dtype(tensor_dtype, scalar):
    if isinstance(scalar, float) and not is_float_dtype(tensor_dtype):
        return "float32"
    return tensor_dtype


def broadcast_shapes(a, b):
    rank = builtins.max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    out = []
    for i, j in zip(a, b):
        if i != j and 1 not in (i, j):
            raise ValueError(f"Cannot broadcast shapes {a} and {b}: dimensions {i} and {j} differ.")
        out.append(builtins.max(i, j) if 0 not in (i, j) else 0)
    return tuple(out)


def unbroadcast(g, shape):
    """Sum `g` down to `shape` (the VJP of broadcasting)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1
    )
    return reshape(sum(g, axis=axes), shape)


def _binary(op, a, b, grad_a=None, grad_b=None):
    """Primitive: an element-wise op of two broadcast operands. `grad_a(g, a, b)` and
    `grad_b(g, a, b)` give each operand's gradient in the output's shape (unbroadcast here),
    each computed only when that operand needs one."""
    a, b = _binary_operands(a, b)
    broadcast_shapes(a.shape, b.shape)
    data = a.backend.binary(op, a.data, b.data)
    if grad_a is None:
        return make(data)

    def vjp(g, needs):
        return (unbroadcast(grad_a(g, a, b), a.shape) if needs[0] else None,
                unbroadcast(grad_b(g, a, b), b.shape) if needs[1] else None)

    return make(data, (a, b), vjp)


def add(a, b):
    return _binary("add", a, b, lambda g, a, b: g, lambda g, a, b: g)


def subtract(a, b):
    return _binary("sub", a, b, lambda g, a, b: g, lambda g, a, b: negative(g))


def multiply(a, b):
    return _binary("mul", a, b, lambda g, a, b: g * b, lambda g, a, b: g * a)


def divide(a, b):
    a, b = _binary_operands(a, b)
    if not is_float_dtype(a.dtype):
        a, b = cast(a, "float32"), cast(b, "float32")
    return _binary("div", a, b, lambda g, a, b: g / b, lambda g, a, b: -g * a / (b * b))


true_divide = divide


def maximum(a, b):
    # Ties send the gradient to `a`, as NumPy-style backends do.
    return _binary("maximum", a, b, lambda g, a, b: g * cast(greater_equal(a, b), g.dtype),
                   lambda g, a, b: g * cast(less(a, b), g.dtype))


def minimum(a, b):
    return _binary("minimum", a, b, lambda g, a, b: g * cast(less_equal(a, b), g.dtype),
                   lambda g, a, b: g * cast(greater(a, b), g.dtype))


def power(a, b):
    # log(a) is only defined for a > 0; the clamp keeps constant exponents NaN-free.
    return _binary("pow", a, b, lambda g, a, b: g * b * power(a, b - 1.0),
                   lambda g, a, b: g * power(a, b) * log(maximum(a, 1e-30)))


def _comparison(op):
    def compare(a, b):
        return _binary(op, a, b)

    compare.__name__ = op
    return compare


equal = _comparison("equal")
not_equal = _comparison("not_equal")
greater = _comparison("greater")
greater_equal = _comparison("greater_equal")
less = _comparison("less")
less_equal = _comparison("less_equal")


# -- unary -------------------------------------------------------------------------------------
def _unary(op, x, vjp=None):
    x = convert_to_tensor(x)
    if vjp is not None and not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    out = make(x.backend.unary(op, x.data))
    if vjp is not None:
        value = stop_gradient(out)
        record(out, (x,), lambda g, needs: (vjp(g, x, value),))
    return out


def negative(x):
    return _unary("neg", x, lambda g, x, out: negative(g))


def exp(x):
    return _unary("exp", x, lambda g, x, out: g * out)


def log(x):
    return _unary("log", x, lambda g, x, out: g / x)


def sqrt(x):
    return _unary("sqrt", x, lambda g, x, out: g * 0.5 / out)


def square(x):
    return _unary("square", x, lambda g, x, out: g * 2.0 * x)


def abs(x):
    return _unary("abs", x, lambda g, x, out: g * sign(x))


absolute = abs


def sign(x):
    return _unary("sign", x)


def reciprocal(x):
    return _unary("reciprocal", x, lambda g, x, out: -g * out * out)


def tanh(x):
    return _unary("tanh", x, lambda g, x, out: g * (1.0 - out * out))


def clip(x, x_min, x_max):
    x = convert_to_tensor(x)
    low, high = float(x_min), float(x_max)

    def vjp(g, needs):
        inside = cast(greater_equal(x, low), g.dtype) * cast(less_equal(x, high), g.dtype)
        return (g * inside,)

    return make(x.backend.clip(x.data, low, high), (x,), vjp)


def where(condition, x1=None, x2=None):
    """x1 where `condition`, else x2 (broadcast); with the condition alone, its nonzero()."""
    if x1 is None and x2 is None:
        from webkeras.ops.sorting import nonzero

        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: pass both `x1` and `x2`, or neither (for the indices of "
                         "the nonzero elements of `condition`).")
    condition = cast(convert_to_tensor(condition), "bool")
    x1, x2 = _binary_operands(x1, x2)
    broadcast_shapes(broadcast_shapes(condition.shape, x1.shape), x2.shape)

    def vjp(g, needs):
        zeros = zeros_like(g)
        return (
            None,
            unbroadcast(where(condition, g, zeros), x1.shape) if needs[1] else None,
            unbroadcast(where(condition, zeros, g), x2.shape) if needs[2] else None,
        )

    data = x1.backend.where(condition.data, x1.data, x2.data)
    return make(data, (condition, x1, x2), vjp)


# -- creation ----------------------------------------------------------------------------------
def full(shape, fill_value, dtype="float32"):
    from webkeras.backend import get_backend

    backend = get_backend()
    return Tensor(backend.full(tuple(shape), fill_value, dtype), backend)


def zeros(shape, dtype="float32"):
    return full(shape, 0, dtype)


def ones(shape, dtype="float32"):
    return full(shape, 1, dtype)


def zeros_like(x, dtype=None):
    x = convert_to_tensor(x)
    return full(x.shape, 0, dtype or x.dtype)


def ones_like(x, dtype=None):
    x = convert_to_tensor(x)
    return full(x.shape, 1, dtype or x.dtype)


# -- reductions --------------------------------------------------------------------------------
def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"Axis {a} is out of bounds for a tensor of rank {ndim}.")
        normalized.append(a % ndim if ndim else 0)
    return tuple(sorted(set(normalized)))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _reduce(op, x, axis, keepdims, vjp):
    x = convert_to_tensor(x)
    axes = _normalize_axes(axis, x.ndim)
    data = x.backend.reduce(op, x.data, axes, keepdims)
    return make(data, (x,), lambda g, needs: (vjp(g, x, axes),))


def _expand_back(g, x, axes):
    return broadcast_to(reshape(g, _kept_shape(x.shape, axes)), x.shape)


def sum(x, axis=None, keepdims=False):
    return _reduce("sum", x, axis, keepdims, _expand_back)


def mean(x, axis=None, keepdims=False):
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")

    def vjp(g, x, axes):
        count = math.prod(x.shape[a] for a in axes)
        return _expand_back(g, x, axes) / float(builtins.max(count, 1))

    return _reduce("mean", x, axis, keepdims, vjp)


def _extremum(op):
    def reduce_extremum(x, axis=None, keepdims=False):
        def vjp(g, x, axes):
            kept = _kept_shape(x.shape, axes)
            best = broadcast_to(reshape(Tensor(holder[0], x.backend), kept), x.shape)
            mask = cast(equal(x, best), g.dtype)
            # Ties share the gradient equally, as NumPy-style backends do.
            count = broadcast_to(sum(mask, axis=axes, keepdims=True), x.shape)
            return _expand_back(g, x, axes) * mask / count

        holder = []
        out = _reduce(op, x, axis, keepdims, vjp)
        holder.append(out.data)
        return out

    reduce_extremum.__name__ = op
    return reduce_extremum


max = _extremum("max")
min = _extremum("min")
amax, amin = max, min


def argmax(x, axis=None, keepdims=False):
    """Index of the (first) maximum along `axis`; of the flattened tensor when None."""
    x = convert_to_tensor(x)
    if axis is None:
        out = argmax(reshape(x, (-1,)), 0)
        return reshape(out, (1,) * x.ndim) if keepdims else out
    if x.dtype == "bool":
        x = cast(x, "int32")
    (axis,) = _normalize_axes(axis, x.ndim)
    out = make(x.backend.argmax(x.data, axis))
    return expand_dims(out, axis) if keepdims else out


# -- linear algebra and shapes -----------------------------------------------------------------
def matmul(a, b):
    a, b = _binary_operands(a, b)
    if not is_float_dtype(a.dtype):
        a, b = cast(a, "float32"), cast(b, "float32")
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError(
            f"matmul needs tensors of rank >= 1, received shapes {a.shape} and {b.shape}.")
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"Incompatible shapes for matmul: {a.shape} @ {b.shape} "
            f"(inner dimensions {a2.shape[-1]} and {b2.shape[-2]} must match)."
        )
    broadcast_shapes(a2.shape[:-2], b2.shape[:-2])

    def vjp(g, needs):
        return (
            unbroadcast(_matmul_transposed(g, b2, False, True), a2.shape) if needs[0] else None,
            unbroadcast(_matmul_transposed(a2, g, True, False), b2.shape) if needs[1] else None,
        )

    out = make(a.backend.matmul(a2.data, b2.data), (a2, b2), vjp)
    if a.ndim == 1:
        out = squeeze(out, -2)
    if b.ndim == 1:
        out = squeeze(out, -1)
    return out


dot = matmul


def _matmul_transposed(a, b, transpose_a, transpose_b):
    """a^T? @ b^T? without materialising the transpose (used by matmul's VJP).

    No gradient of its own: VJPs run with recording paused, so second-order gradients of
    matmul are not supported.
    """
    return make(a.backend.matmul(a.data, b.data, transpose_a, transpose_b))


def reshape(x, newshape):
    x = convert_to_tensor(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    size = math.prod(x.shape)
    if -1 in newshape:
        known = math.prod(d for d in newshape if d != -1)
        if newshape.count(-1) > 1 or known == 0 or size % known:
            raise ValueError(f"Cannot reshape a tensor of shape {x.shape} into {newshape}.")
        newshape = tuple(size // known if d == -1 else d for d in newshape)
    if math.prod(newshape) != size:
        raise ValueError(
            f"Cannot reshape a tensor of shape {x.shape} ({size} elements) into shape {newshape}."
        )
    if newshape == x.shape:
        return x
    source_shape = x.shape
    return make(x.backend.reshape(x.data, newshape), (x,),
                lambda g, needs: (reshape(g, source_shape),))


def transpose(x, axes=None):
    x = convert_to_tensor(x)
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} is not a permutation of the {x.ndim} axes of {x.shape}.")
    if perm == tuple(range(x.ndim)):
        return x
    inverse = tuple(perm.index(i) for i in range(len(perm)))
    return make(x.backend.transpose(x.data, perm), (x,),
                lambda g, needs: (transpose(g, inverse),))


def swapaxes(x, axis1, axis2):
    x = convert_to_tensor(x)
    perm = list(range(x.ndim))
    axis1, axis2 = axis1 % x.ndim, axis2 % x.ndim
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


def broadcast_to(x, shape):
    x = convert_to_tensor(x)
    shape = tuple(shape)
    if broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"Cannot broadcast a tensor of shape {x.shape} to shape {shape}.")
    if x.shape == shape:
        return x
    source_shape = x.shape
    return make(
        x.backend.broadcast_to(x.data, shape), (x,),
        lambda g, needs: (unbroadcast(g, source_shape),)
    )


def expand_dims(x, axis):
    """`x` with a new axis of size 1 at `axis` (an int, or a tuple of result positions)."""
    x = convert_to_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    rank = x.ndim + len(axes)
    axes = sorted(a % rank for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    x = convert_to_tensor(x)
    if axis is None:
        return reshape(x, tuple(d for d in x.shape if d != 1))
    axes = _normalize_axes(axis, x.ndim)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a} of shape {x.shape}: its size is not 1.")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def size(x):
    return math.prod(convert_to_tensor(x).shape)


# -- composites used by losses and metrics -----------------------------------------------------
def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 == 0 (`keras.ops.divide_no_nan`)."""
    x1, x2 = _binary_operands(x1, x2)
    if not is_float_dtype(x1.dtype):
        x1, x2 = cast(x1, "float32"), cast(x2, "float32")
    is_zero = equal(x2, 0.0)
    # The safe divisor keeps the unselected branch (and its gradient) finite.
    safe = where(is_zero, 1.0, x2)
    return where(is_zero, 0.0, x1 / safe)
