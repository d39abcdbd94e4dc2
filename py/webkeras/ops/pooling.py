"""Max and average pooling (keras.ops names) on the `pool` / `pool_grad` backend primitives."""

from webkeras.ops.conv import _data_format, _from_channels_last, _same_padding, \
    _to_channels_last, _tuple
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make


def pool_general(x, mode, pool_size, strides, pads):
    """Primitive: channels-last pooling with explicit (before, after) pads per spatial axis.

    Padded entries never win a max and are left out of an average (see `Backend.pool`).
    """
    y = x.backend.pool(x.data, mode, pool_size, strides, pads)

    def vjp(g, needs):
        # Holds the raw output, not the output tensor, so the graph has no reference cycle.
        return (make(x.backend.pool_grad(x.data, y, g.data, mode, pool_size, strides, pads)),)

    return make(y, (x,), vjp)


def _pool(inputs, pool_size, strides, padding, data_format, mode):
    inputs = convert_to_tensor(inputs)
    if mode == "avg" and not is_float_dtype(inputs.dtype):
        inputs = cast(inputs, "float32")
    nd = inputs.ndim - 2
    data_format = _data_format(data_format)
    pool_size = _tuple(pool_size, nd, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, nd, "strides")
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of 'valid', 'same'. "
                         f"Received: padding={padding}")
    x = _to_channels_last(inputs, data_format)
    if padding == "same":
        pads = tuple(_same_padding(d, k, s, 1)
                     for d, k, s in zip(x.shape[1:-1], pool_size, strides))
    else:
        pads = ((0, 0),) * nd
    if any(d + a + b < k for d, (a, b), k in zip(x.shape[1:-1], pads, pool_size)):
        raise ValueError(f"The pool (size {pool_size}) is larger than the padded input of "
                         f"spatial shape {x.shape[1:-1]}: the output would be empty.")
    y = pool_general(x, mode, pool_size, strides, pads)
    return _from_channels_last(y, data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max over each window; the gradient goes to the window's maximum (ties share it)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Mean over each window; 'same' averages over in-bounds entries only, as Keras does."""
    return _pool(inputs, pool_size, strides, padding, data_format, "avg")


__all__ = ["average_pool", "max_pool", "pool_general"]
