"""Activations by name or callable: `activation='relu'` or `keras.activations.relu`."""

from webkeras import ops


def linear(x):
    return x


def relu(x):
    return ops.relu(x)


def sigmoid(x):
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def exponential(x):
    return ops.exp(x)


_BY_NAME = {
    f.__name__: f for f in (linear, relu, sigmoid, tanh, softmax, log_softmax, exponential)
}


def get(identifier):
    """None -> linear; a name -> the function; a callable passes through."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. "
        f"Expected one of {sorted(_BY_NAME)} or a callable."
    )


def serialize(activation):
    name = getattr(activation, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is activation:
        return name
    return name or str(activation)
