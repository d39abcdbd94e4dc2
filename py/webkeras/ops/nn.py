"""Neural-network ops (keras.ops.nn names): activations, softmax, one-hot, cross-entropies."""

from webkeras.backend import Tensor
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make
from webkeras.ops.numpy import _unary, clip, log, mean, sum
from webkeras.ops.tape import record


def relu(x):
    return _unary("relu", x, lambda g, x, out: g * cast(x > 0, g.dtype))


def sigmoid(x):
    return _unary("sigmoid", x, lambda g, x, out: g * out * (1.0 - out))


def _last_axis_op(op, x, axis, vjp):
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    if axis not in (-1, x.ndim - 1):
        raise NotImplementedError(f"{op} over axis {axis}: only the last axis is supported yet.")
    out = make(getattr(x.backend, op)(x.data))
    value = Tensor(out.data, out.backend)  # record-free alias: no reference cycle
    return record(out, (x,), lambda g: (vjp(g, value),))


def softmax(x, axis=-1):
    return _last_axis_op(
        "softmax", x, axis, lambda g, out: out * (g - sum(g * out, axis=-1, keepdims=True))
    )


def log_softmax(x, axis=-1):
    from webkeras.ops.numpy import exp

    return _last_axis_op(
        "log_softmax", x, axis, lambda g, out: g - exp(out) * sum(g, axis=-1, keepdims=True)
    )


def one_hot(x, num_classes, dtype="float32"):
    x = cast(convert_to_tensor(x), "int32")
    return make(x.backend.one_hot(x.data, int(num_classes), dtype))


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
    from webkeras.ops.numpy import exp, maximum, abs, negative

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
    from webkeras.ops.numpy import squeeze

    return squeeze(x, -1)


def moments(x, axes, keepdims=False):
    m = mean(x, axis=axes, keepdims=True)
    from webkeras.ops.numpy import square, squeeze

    v = mean(square(x - m), axis=axes, keepdims=keepdims)
    return (m if keepdims else squeeze(m, axes)), v


# -- more activations (composed from primitives, except erf) ------------------------------------
def erf(x):
    import math

    from webkeras.ops.numpy import exp, square

    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        x = cast(x, "float32")
    scale = 2.0 / math.sqrt(math.pi)
    return make(x.backend.erf(x.data), (x,), lambda g: (g * scale * exp(-square(x)),))


def elu(x, alpha=1.0):
    from webkeras.ops.numpy import exp, minimum, where

    x = convert_to_tensor(x)
    # exp of min(x, 0) keeps the unused branch finite (and its gradient NaN-free).
    return where(x > 0, x, alpha * (exp(minimum(x, 0.0)) - 1.0))


def selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def softplus(x):
    from webkeras.ops.numpy import abs, exp, maximum

    x = convert_to_tensor(x)
    return maximum(x, 0.0) + log(1.0 + exp(-abs(x)))


def softsign(x):
    from webkeras.ops.numpy import abs

    return x / (abs(x) + 1.0)


def silu(x):
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate=True):
    import math

    from webkeras.ops.numpy import tanh

    x = convert_to_tensor(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + tanh(inner))
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def leaky_relu(x, negative_slope=0.2):
    from webkeras.ops.numpy import where

    x = convert_to_tensor(x)
    return where(x > 0, x, x * negative_slope)


def relu6(x):
    from webkeras.ops.numpy import clip as clip_

    return clip_(x, 0.0, 6.0)


def hard_sigmoid(x):
    return relu6(convert_to_tensor(x) + 3.0) / 6.0


def hard_silu(x):
    x = convert_to_tensor(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    from webkeras.ops.numpy import tanh

    return x * tanh(softplus(x))
