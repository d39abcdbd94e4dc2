"""tf.keras 2's backend functions (`from keras import backend as K`), which Keras 3 dropped.

TF2-era tutorials write custom losses and metrics with them (`K.sqrt(K.mean(K.square(d)))`).
Each is a thin alias of `keras.ops`. They are built on ops, above the backend, so webkeras's
`__init__` puts them on `keras.backend`, after its own (Keras 3) names, which come first.
"""

import numpy as np

from webkeras import ops
from webkeras.backend import floatx
from webkeras.ops.tensor import Variable

# K name -> keras.ops name, for functions whose arguments are the same.
_SAME_AS_OPS = {name: name for name in (
    "sum", "mean", "max", "min", "prod", "std", "var", "square", "sqrt", "exp", "log", "abs",
    "sign", "round", "maximum", "minimum", "all", "any", "cast",
    "clip", "where", "transpose", "reshape", "expand_dims", "squeeze", "stack", "tile",
    "zeros", "ones", "zeros_like", "ones_like", "relu", "elu", "sigmoid", "softmax",
    "softplus", "tanh", "equal", "not_equal", "greater", "greater_equal", "less",
    "less_equal", "one_hot", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy",
)}
_SAME_AS_OPS.update({"pow": "power", "dot": "matmul", "shape": "shape",
                     "repeat_elements": "repeat", "permute_dimensions": "transpose"})


def _alias(k_name, ops_name):
    target = getattr(ops, ops_name)

    def function(*args, **kwargs):
        return target(*args, **kwargs)

    function.__name__ = k_name
    function.__doc__ = f"tf.keras 2's `K.{k_name}`: `keras.ops.{ops_name}`."
    return function


# tf.keras 2's defaults, which differ from Keras 3's (flattened) ones.
def argmax(x, axis=-1):
    return ops.argmax(x, axis=axis)


def argmin(x, axis=-1):
    return ops.argmin(x, axis=axis)


def cumsum(x, axis=0):
    return ops.cumsum(x, axis=axis)


def cumprod(x, axis=0):
    return ops.cumprod(x, axis=axis)


def int_shape(x):
    """The static shape as a tuple of ints (None for unknown dimensions)."""
    return tuple(None if d is None else int(d) for d in x.shape)


def ndim(x):
    return len(x.shape)


def dtype(x):
    return str(getattr(x.dtype, "name", x.dtype))


def count_params(x):
    return int(np.prod(int_shape(x)))


def concatenate(tensors, axis=-1):
    return ops.concatenate(tensors, axis=axis)


def gather(reference, indices):
    return ops.take(reference, indices, axis=0)


def flatten(x):
    return ops.reshape(x, (-1,))


def batch_flatten(x):
    return ops.reshape(x, (x.shape[0], -1))


def constant(value, dtype=None, shape=None, name=None):
    array = np.asarray(value, dtype=dtype or floatx())
    if shape is not None:
        array = np.broadcast_to(array, shape)
    return ops.convert_to_tensor(array)


def variable(value, dtype=None, name=None, constraint=None):
    return Variable(np.asarray(value, dtype=dtype or floatx()), name=name,
                    dtype=dtype or floatx())


def cast_to_floatx(x):
    return np.asarray(x, dtype=floatx())


def get_value(x):
    return ops.convert_to_numpy(x)


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def set_value(x, value):
    if not hasattr(x, "assign"):
        raise TypeError(
            f"K.set_value() needs a variable, received a {type(x).__name__} ({x!r}). For an "
            "optimizer's learning rate, set `optimizer.learning_rate = value` instead.")
    x.assign(np.asarray(value))


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def learning_phase():
    """Always 0 (inference): Keras 3 passes `training=` to layers instead."""
    return 0


FUNCTIONS = {**{k: _alias(k, name) for k, name in _SAME_AS_OPS.items()},
             **{f.__name__: f for f in (
                 argmax, argmin, cumsum, cumprod,
                 int_shape, ndim, dtype, count_params, concatenate, gather, flatten,
                 batch_flatten, constant, variable, cast_to_floatx, get_value,
                 batch_get_value, set_value, batch_set_value, learning_phase)},
             "eval": get_value}  # K.eval: tf.keras 2's name (a builtin's, so not a def)
