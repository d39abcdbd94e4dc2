"""Neural-network ops (keras.ops.nn names): activations, softmax, one-hot, cross-entropies."""

import numpy as np

from webkeras import backend
from webkeras.ops.array import flip, moveaxis, split, take_along_axis
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make, stop_gradient
from webkeras.ops.elementwise import expm1, log1p
from webkeras.ops.numpy import (
    _normalize_axes,
    _unary,
    abs,
    clip,
    exp,
    log,
    max,
    maximum,
    mean,
    minimum,
    negative,
    reshape,
    sqrt,
    square,
    squeeze,
    sum,
    tanh,
    where,
)
from webkeras.ops.reductions import cumsum
from webkeras.ops.sorting import sort
from webkeras.ops.tape import record, stop_recording

# What `from webkeras.ops.nn import *` gives keras.ops: this module's ops, not its imports.
__all__ = [
    "binary_crossentropy", "categorical_crossentropy", "celu", "elu", "erf", "gelu", "glu",
    "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu",
    "log_sigmoid", "log_softmax", "mish", "moments", "multi_hot", "one_hot", "relu", "relu6",
    "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "swish", "tanh_shrink", "threshold",
]


def relu(x):
    # From the output (out > 0 exactly where x > 0, NaN included): the pre-activation is then
    # dead after the forward pass, so a traced step can fuse it away (plan_fusion).
    return _unary("relu", x, lambda g, x, out: g * cast(out > 0, g.dtype))


def sigmoid(x):
    return _unary("sigmoid", x, lambda g, x, out: g * out * (1.0 - out))


def _last_axis_op(op, x, axis, vjp):
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    if x.ndim == 0 or axis not in (-1, x.ndim - 1):
        return _over_axes(op, x, axis, vjp)
    out = make(getattr(x.backend, op)(x.data))
    value = stop_gradient(out)
    return record(out, (x,), lambda g, needs: (vjp(g, value),))


def _over_axes(op, x, axis, vjp):
    """The last-axis kernel applied over any axes (or all, axis=None): move them to the end
    and merge them into one, apply, then undo both."""
    axes = _normalize_axes(axis, x.ndim)
    if x.ndim == 0:
        return _last_axis_op(op, reshape(x, (1,)), -1, vjp)[0]
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = moveaxis(x, axes, tuple(range(len(rest), x.ndim)))
    merged = reshape(moved, moved.shape[:len(rest)] + (-1,))
    out = reshape(_last_axis_op(op, merged, -1, vjp), moved.shape)
    return moveaxis(out, tuple(range(len(rest), x.ndim)), axes)


def softmax(x, axis=-1):
    return _last_axis_op(
        "softmax", x, axis, lambda g, out: out * (g - sum(g * out, axis=-1, keepdims=True))
    )


def log_softmax(x, axis=-1):
    return _last_axis_op(
        "log_softmax", x, axis, lambda g, out: g - exp(out) * sum(g, axis=-1, keepdims=True)
    )


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer classes -> one-hot vectors along `axis`; out-of-range classes give zeros."""
    if sparse:
        raise NotImplementedError("one_hot(sparse=True): webkeras has no sparse tensors.")
    x = cast(convert_to_tensor(x), "int32")
    out = make(x.backend.one_hot(x.data, int(num_classes), dtype or backend.floatx()))
    if axis in (-1, x.ndim):
        return out
    return moveaxis(out, -1, axis)


def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Several classes per row -> one vector with a 1 for each: (..., n) -> (..., classes)."""
    x = convert_to_tensor(inputs)
    hot = one_hot(x, num_classes, dtype=dtype, sparse=sparse)
    out = max(hot, axis=-2) if x.ndim > 0 else hot
    if axis in (-1, out.ndim - 1):
        return out
    return moveaxis(out, -1, axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample loss; `target` holds class indices, `output` probabilities or logits."""
    output = convert_to_tensor(output)
    target = convert_to_tensor(target)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = _squeeze_last(target)
    if target.shape != output.shape[:-1]:
        raise ValueError(
            "Arguments `target` and `output` must have compatible shapes: target.shape should "
            f"be output.shape[:-1]. Received target.shape={target.shape}, "
            f"output.shape={output.shape}"
        )
    target_one_hot = one_hot(target, output.shape[-1], dtype=output.dtype)
    return -sum(target_one_hot * _log_probabilities(output, from_logits), axis=-1)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = convert_to_tensor(output)
    target = cast(convert_to_tensor(target), output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )
    return -sum(target * _log_probabilities(output, from_logits), axis=-1)


def binary_crossentropy(target, output, from_logits=False):
    output = convert_to_tensor(output)
    target = cast(convert_to_tensor(target), output.dtype)
    if from_logits:
        # max(x, 0) - x * z + log(1 + exp(-|x|)): stable for large |x|.
        return maximum(output, 0.0) - output * target + log(1.0 + exp(negative(abs(output))))
    epsilon = 1e-7
    output = clip(output, epsilon, 1.0 - epsilon)
    return -(target * log(output) + (1.0 - target) * log(1.0 - output))


def _log_probabilities(output, from_logits):
    if from_logits:
        return log_softmax(output, axis=-1)
    # As Keras: renormalise, then clip away from 0 and 1 before the log.
    output = output / sum(output, axis=-1, keepdims=True)
    epsilon = 1e-7
    return log(clip(output, epsilon, 1.0 - epsilon))


def _squeeze_last(x):
    return squeeze(x, -1)


def moments(x, axes, keepdims=False):
    m = mean(x, axis=axes, keepdims=True)
    v = mean(square(x - m), axis=axes, keepdims=keepdims)
    return (m if keepdims else squeeze(m, axes)), v


# -- more activations (composed from primitives, except erf) ------------------------------------
def erf(x):
    import math

    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    scale = 2.0 / math.sqrt(math.pi)
    return make(x.backend.erf(x.data), (x,), lambda g, needs: (g * scale * exp(-square(x)),))


def elu(x, alpha=1.0):
    x = convert_to_tensor(x)
    # exp of min(x, 0) keeps the unused branch finite (and its gradient NaN-free).
    return where(x > 0, x, alpha * (exp(minimum(x, 0.0)) - 1.0))


def selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def softplus(x):
    """log(1 + exp(x)), overflow-free; its gradient is sigmoid(x) (0.5 at 0, which the
    max(x, 0) form's tie rule would make 1)."""
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    with stop_recording():
        value = maximum(x, 0.0) + log1p(exp(-abs(x)))
    return make(value.data, (x,), lambda g, needs: (g * sigmoid(x),))


def softsign(x):
    return x / (abs(x) + 1.0)


def silu(x):
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate=True):
    import math

    x = convert_to_tensor(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + tanh(inner))
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def leaky_relu(x, negative_slope=0.2):
    x = convert_to_tensor(x)
    return where(x > 0, x, x * negative_slope)


def relu6(x):
    return clip(x, 0.0, 6.0)


def hard_sigmoid(x):
    return relu6(convert_to_tensor(x) + 3.0) / 6.0


def hard_silu(x):
    x = convert_to_tensor(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    return x * tanh(softplus(x))


def log_sigmoid(x):
    return -softplus(-convert_to_tensor(x))


def hard_tanh(x):
    return clip(x, -1.0, 1.0)


def celu(x, alpha=1.0):
    x = convert_to_tensor(x)
    return where(x > 0, x, alpha * expm1(minimum(x, 0.0) / alpha))


def glu(x, axis=-1):
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half."""
    x = convert_to_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size; received shape {x.shape}.")
    a, b = split(x, 2, axis=axis)
    return a * sigmoid(b)


def sparse_plus(x):
    x = convert_to_tensor(x)
    return where(x <= -1.0, 0.0, where(x >= 1.0, x, (x + 1.0) * (x + 1.0) * 0.25))


def sparse_sigmoid(x):
    x = convert_to_tensor(x)
    return where(x <= -1.0, 0.0, where(x >= 1.0, 1.0, (x + 1.0) * 0.5))


def squareplus(x, b=4):
    x = convert_to_tensor(x)
    return (x + sqrt(x * x + float(b))) * 0.5


def soft_shrink(x, threshold=0.5):
    x = convert_to_tensor(x)
    return where(x > threshold, x - threshold, where(x < -threshold, x + threshold, 0.0))


def hard_shrink(x, threshold=0.5):
    x = convert_to_tensor(x)
    return where(abs(x) > threshold, x, 0.0)


def tanh_shrink(x):
    x = convert_to_tensor(x)
    return x - tanh(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    x = convert_to_tensor(x)
    return where(x > threshold, x, default_value)


def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis`: like softmax,
    but exactly zero for low scores (Martins & Astudillo, 2016)."""
    x = convert_to_tensor(x)
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    z = moveaxis(x, axis, -1)
    ordered = flip(sort(z, axis=-1), -1)
    totals = cumsum(ordered, axis=-1)
    k = convert_to_tensor(np.arange(1, z.shape[-1] + 1, dtype=np.float32), dtype=z.dtype)
    support = sum(cast(1.0 + k * ordered > totals, "int32"), axis=-1, keepdims=True)
    tau = (take_along_axis(totals, support - 1, -1) - 1.0) / cast(support, z.dtype)
    return moveaxis(maximum(z - tau, 0.0), -1, axis)
