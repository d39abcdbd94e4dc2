"""Activations by name or callable: `activation='relu'` or `keras.activations.relu`.

Names, defaults and formulas follow `keras.activations` (Keras 3).
"""

from webkeras import ops
from webkeras.utils import object_registry, serialization_lib


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    x = ops.convert_to_tensor(x)
    positive = ops.where(x > threshold, x, 0.0) if threshold else ops.relu(x)
    if max_value is not None:
        positive = ops.minimum(positive, float(max_value))
    if negative_slope:
        return positive + negative_slope * ops.minimum(x - threshold, 0.0)
    return positive


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    return ops.relu6(x)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha=alpha)


def selu(x):
    return ops.selu(x)


def softplus(x):
    return ops.softplus(x)


def softsign(x):
    return ops.softsign(x)


def silu(x):
    return ops.silu(x)


swish = silu


def gelu(x, approximate=False):
    return ops.gelu(x, approximate=approximate)


def sigmoid(x):
    return ops.sigmoid(x)


def hard_sigmoid(x):
    return ops.hard_sigmoid(x)


def hard_silu(x):
    return ops.hard_silu(x)


hard_swish = hard_silu


def mish(x):
    return ops.mish(x)


def tanh(x):
    return ops.tanh(x)


def exponential(x):
    return ops.exp(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


_FUNCTIONS = (linear, relu, leaky_relu, relu6, elu, selu, softplus, softsign, silu, gelu,
              sigmoid, hard_sigmoid, hard_silu, mish, tanh, exponential, softmax, log_softmax)
_BY_NAME = {f.__name__: f for f in _FUNCTIONS}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}


def get(identifier):
    """None -> linear; a name (or a saved `{'class_name': ...}` dict) -> the function;
    callables pass. Names that are not Keras's are looked up as custom objects
    (`custom_objects`, `custom_object_scope`, `register_keras_serializable`)."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict) and "config" in identifier:
        identifier = identifier["config"] if isinstance(identifier["config"], str) \
            else identifier.get("class_name")
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]
        if key in _ALIASES:
            return _ALIASES[key]
        custom = serialization_lib.find_function(identifier, ())
        if callable(custom):
            return custom
    raise ValueError(f"Could not interpret activation function identifier: {identifier}. "
                     f"Known names: {sorted(_BY_NAME) + sorted(_ALIASES)}. For a custom "
                     f"activation, pass `custom_objects={{'{identifier}': ...}}` to the "
                     "loading function or decorate it with "
                     "`@keras.saving.register_keras_serializable()`.")


def serialize(activation):
    """Keras's own activations by name; a custom function as Keras 3 writes it
    (`{"class_name": "function", "config": "<registered name>", ...}`)."""
    name = getattr(activation, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is activation:
        return name
    if callable(activation) and name is not None and name != "<lambda>" and \
            not hasattr(activation, "get_config"):
        return serialization_lib.serialize_function(activation)
    # An activation layer or unnamed callable: by name when it has one.
    return name or str(activation)


def deserialize(config, custom_objects=None):
    with object_registry.custom_object_scope(custom_objects):
        return get(config)


serialization_lib.register_namespace(("keras.activations",), objects=_BY_NAME)
