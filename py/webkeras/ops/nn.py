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
