"""Convolution ops (keras.ops names) on three backend primitives, each with its VJP.

`conv_general` correlates an already padded channels-last input with a kernel;
`conv_input_grad` and `conv_kernel_grad` are its VJPs (and each other's). `conv` pads and
transposes around it, `depthwise_conv` is the grouped case, and `conv_transpose` is
`conv_input_grad` plus a crop. Pooling lives in `ops/pooling.py`.
"""

import builtins

from webkeras.backend import image_data_format
from webkeras.ops.array import pad, strided_slice
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make, result_dtype
from webkeras.ops.numpy import reshape, transpose


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints; received {value}.")
    return value


def _data_format(data_format):
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format


def _to_channels_last(x, data_format):
    if data_format == "channels_first":
        return transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,))
    return x


def _from_channels_last(x, data_format):
    if data_format == "channels_first":
        return transpose(x, (0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))
    return x


def conv_output_length(length, kernel, stride, dilation, padding):
    """Keras's output length of one spatial axis (None stays None)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - effective + stride) // stride


def _same_padding(length, kernel, stride, dilation):
    effective = (kernel - 1) * dilation + 1
    out = (length + stride - 1) // stride
    total = builtins.max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def _padded(x, kernel, strides, dilation, padding, value=0.0):
    """Pad the spatial axes of channels-last `x` as `padding` asks."""
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of 'valid', 'same'. "
                         f"Received: padding={padding}")
    if padding == "valid":
        return x
    pairs = [(0, 0)] + [_same_padding(d, k, s, r) for d, k, s, r
                        in zip(x.shape[1:-1], kernel, strides, dilation)] + [(0, 0)]
    if not any(a or b for a, b in pairs):
        return x
    return pad(x, pairs, constant_values=value)


def _check_nonempty(x, kernel, strides, dilation):
    out = [conv_output_length(d, k, s, r, "valid")
           for d, k, s, r in zip(x.shape[1:-1], kernel, strides, dilation)]
    if any(o <= 0 for o in out):
        raise ValueError(f"The kernel (size {kernel}, dilation {dilation}) is larger than the "
                         f"padded input of spatial shape {x.shape[1:-1]}: the output would be "
                         "empty.")


def _same_dtype(x, kernel):
    if not is_float_dtype(x.dtype):
        x = cast(x, kernel.dtype)
    dtype = result_dtype(x.dtype, kernel.dtype)
    return cast(x, dtype), cast(kernel, dtype)


# -- the three convolution primitives, each with its VJP ---------------------------------------
def conv_general(x, kernel, strides, dilation, groups):
    """Primitive: channels-last, already padded `x` correlated with `kernel` (see backend)."""
    input_shape, kernel_shape = x.shape, kernel.shape

    def vjp(g, needs):
        dx = dk = None
        if needs[0]:
            dx = conv_input_grad(g, kernel, input_shape, strides, dilation, groups)
        if needs[1]:
            dk = conv_kernel_grad(x, g, kernel_shape, strides, dilation, groups)
        return dx, dk

    data = x.backend.conv(x.data, kernel.data, strides, dilation, groups)
    return make(data, (x, kernel), vjp)


def conv_input_grad(grad, kernel, input_shape, strides, dilation, groups):
    """Primitive: the VJP of `conv_general` in x (a transposed convolution of `grad`)."""
    input_shape = tuple(input_shape)

    def vjp(g, needs):
        dgrad = dk = None
        if needs[0]:
            dgrad = conv_general(g, kernel, strides, dilation, groups)
        if needs[1]:
            dk = conv_kernel_grad(g, grad, kernel.shape, strides, dilation, groups)
        return dgrad, dk

    data = grad.backend.conv_input_grad(grad.data, kernel.data, input_shape, strides, dilation,
                                        groups)
    return make(data, (grad, kernel), vjp)


def conv_kernel_grad(x, grad, kernel_shape, strides, dilation, groups):
    """Primitive: the VJP of `conv_general` in the kernel."""
    kernel_shape = tuple(kernel_shape)

    def vjp(g, needs):
        dx = dgrad = None
        if needs[0]:
            dx = conv_input_grad(grad, g, x.shape, strides, dilation, groups)
        if needs[1]:
            dgrad = conv_general(x, g, strides, dilation, groups)
        return dx, dgrad

    data = x.backend.conv_kernel_grad(x.data, grad.data, kernel_shape, strides, dilation,
                                      groups)
    return make(data, (x, grad), vjp)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; kernel shape `(*kernel_size, in_channels // groups, out_channels)`."""
    inputs, kernel = convert_to_tensor(inputs), convert_to_tensor(kernel)
    inputs, kernel = _same_dtype(inputs, kernel)
    nd = inputs.ndim - 2
    data_format = _data_format(data_format)
    strides = _tuple(strides, nd, "strides")
    dilation = _tuple(dilation_rate, nd, "dilation_rate")
    size = kernel.shape[:nd]
    x = _to_channels_last(inputs, data_format)
    channels = x.shape[-1]
    group_channels, filters = kernel.shape[-2], kernel.shape[-1]
    if channels % group_channels:
        raise ValueError(f"The number of input channels ({channels}) must be a multiple of the "
                         f"kernel's input channels ({group_channels}).")
    groups = channels // group_channels
    if filters % groups:
        raise ValueError(f"The number of filters ({filters}) must be a multiple of the number "
                         f"of groups ({groups}).")
    x = _padded(x, size, strides, dilation, padding)
    _check_nonempty(x, size, strides, dilation)
    y = conv_general(x, kernel, strides, dilation, groups)
    return _from_channels_last(y, data_format)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Kernel `(*kernel_size, channels, multiplier)`; output channel c * multiplier + m."""
    kernel = convert_to_tensor(kernel)
    nd = kernel.ndim - 2
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    kernel = reshape(kernel, kernel.shape[:nd] + (1, channels * multiplier))
    return conv(inputs, kernel, strides, padding, data_format, dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose_padding(kernel, stride, dilation, padding, output_padding):
    """(left, right) padding of the stride-dilated input (Keras's JAX convention)."""
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = builtins.max(kernel, stride) - kernel
        return kernel - 1, kernel - 1 + output_padding
    if output_padding is None:
        pad_len = stride + kernel - 2
    else:
        pad_len = kernel + kernel % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, kernel - 1)
    return left, pad_len - left


def conv_transpose_output_length(length, kernel, stride, dilation, padding, output_padding):
    if length is None:
        return None
    left, right = conv_transpose_padding(kernel, stride, dilation, padding, output_padding)
    effective = (kernel - 1) * dilation + 1
    return (length - 1) * stride + 1 + left + right - effective + 1


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Kernel `(*kernel_size, out_channels, in_channels)`: the gradient of `conv`."""
    inputs, kernel = _same_dtype(convert_to_tensor(inputs), convert_to_tensor(kernel))
    nd = inputs.ndim - 2
    data_format = _data_format(data_format)
    strides = _tuple(strides, nd, "strides")
    dilation = _tuple(dilation_rate, nd, "dilation_rate")
    out_pad = (None,) * nd if output_padding is None else _tuple(output_padding, nd,
                                                                  "output_padding")
    size = kernel.shape[:nd]
    x = _to_channels_last(inputs, data_format)
    pads = [conv_transpose_padding(k, s, r, padding.lower(), o)
            for k, s, r, o in zip(size, strides, dilation, out_pad)]
    # The input gradient of a convolution gives the "full" output (extent - 1 on each side);
    # Keras's padding (left, right) then crops (extent - 1 - pad) from each side, or extends.
    extents = [(k - 1) * r + 1 for k, r in zip(size, dilation)]
    full = [(d - 1) * s + e for d, s, e in zip(x.shape[1:-1], strides, extents)]
    extra = [builtins.max(b - (e - 1), 0) for (_, b), e in zip(pads, extents)]
    shape = (x.shape[0],) + tuple(f + e for f, e in zip(full, extra)) + (kernel.shape[-2],)
    y = conv_input_grad(x, kernel, shape, strides, dilation, 1)
    crop = (slice(None),) + tuple(slice(e - 1 - a, f + more - builtins.max(e - 1 - b, 0))
                                  for (a, b), e, f, more in zip(pads, extents, full, extra))
    y = strided_slice(y, crop)
    return _from_channels_last(y, data_format)


__all__ = [
    "conv",
    "conv_general",
    "conv_input_grad",
    "conv_kernel_grad",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
]
