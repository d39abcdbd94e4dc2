"""Convolution and pooling ops (keras.ops names), composed from slicing and matmul.

Convolution is im2col: pad, take one strided slice of the input per kernel offset, stack the
slices and multiply by the reshaped kernel. Gradients therefore come from the VJPs of
`strided_slice`, `concatenate` and `matmul`; no convolution primitive is needed.
"""

import builtins
import itertools
import math

import numpy as np

from webkeras.backend import image_data_format
from webkeras.ops.array import flip, pad, slice_scatter, stack, strided_slice
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.numpy import (
    divide,
    matmul,
    max,
    ones,
    reshape,
    sum,
    transpose,
)


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


def _patches(x, kernel, strides, dilation):
    """One strided slice of channels-last `x` per kernel offset, in row-major offset order."""
    spatial = x.shape[1:-1]
    out = [conv_output_length(d, k, s, r, "valid")
           for d, k, s, r in zip(spatial, kernel, strides, dilation)]
    if any(o <= 0 for o in out):
        raise ValueError(f"The kernel (size {kernel}, dilation {dilation}) is larger than the "
                         f"padded input of spatial shape {spatial}: the output would be empty.")
    slices = []
    for offset in itertools.product(*[range(k) for k in kernel]):
        key = [slice(None)]
        for o, r, s, n in zip(offset, dilation, strides, out):
            key.append(slice(o * r, o * r + s * (n - 1) + 1, s))
        slices.append(strided_slice(x, tuple(key)))
    return slices, tuple(out)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; kernel shape `(*kernel_size, in_channels // groups, out_channels)`."""
    inputs, kernel = convert_to_tensor(inputs), convert_to_tensor(kernel)
    if not is_float_dtype(inputs.dtype):
        inputs = cast(inputs, kernel.dtype)
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
    x = _padded(x, size, strides, dilation, padding)
    slices, out = _patches(x, size, strides, dilation)
    taps = len(slices)
    batch = x.shape[0]
    rows = batch * math.prod(out)
    patches = stack(slices, axis=-2)  # (N, *out, taps, C)
    if groups == 1:
        y = matmul(reshape(patches, (rows, taps * channels)),
                   reshape(kernel, (taps * channels, filters)))
    else:
        per_group = filters // groups
        p = reshape(patches, (rows, taps, groups, group_channels))
        p = reshape(transpose(p, (2, 0, 1, 3)), (groups, rows, taps * group_channels))
        k = reshape(kernel, (taps, group_channels, groups, per_group))
        k = reshape(transpose(k, (2, 0, 1, 3)), (groups, taps * group_channels, per_group))
        y = transpose(matmul(p, k), (1, 0, 2))
    y = reshape(y, (batch,) + out + (filters,))
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
    inputs, kernel = convert_to_tensor(inputs), convert_to_tensor(kernel)
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
    # Insert stride-1 zeros between inputs and pad, in one scatter; crop negative pads after.
    shape = [x.shape[0]]
    key = [slice(None)]
    for d, s, (a, b) in zip(x.shape[1:-1], strides, pads):
        shape.append((d - 1) * s + 1 + builtins.max(a, 0) + builtins.max(b, 0))
        key.append(slice(builtins.max(a, 0), builtins.max(a, 0) + (d - 1) * s + 1, s))
    shape.append(x.shape[-1])
    x = slice_scatter(x, tuple(shape), tuple(key))
    if any(a < 0 or b < 0 for a, b in pads):
        x = strided_slice(x, (slice(None),) + tuple(
            slice(-a if a < 0 else 0, n - (-b if b < 0 else 0)) for n, (a, b)
            in zip(shape[1:-1], pads)))
    flipped = flip(kernel, axis=tuple(range(nd)))
    flipped = transpose(flipped, tuple(range(nd)) + (nd + 1, nd))
    y = conv(x, flipped, 1, "valid", "channels_last", dilation)
    return _from_channels_last(y, data_format)


def _pool(inputs, pool_size, strides, padding, data_format, reducer):
    inputs = convert_to_tensor(inputs)
    nd = inputs.ndim - 2
    data_format = _data_format(data_format)
    pool_size = _tuple(pool_size, nd, "pool_size")
    strides = pool_size if strides is None else _tuple(strides, nd, "strides")
    x = _to_channels_last(inputs, data_format)
    y = reducer(x, pool_size, strides, padding.lower())
    return _from_channels_last(y, data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    def reducer(x, size, strides, padding):
        lowest = float(np.finfo(x.dtype).min) if is_float_dtype(x.dtype) else -2**31
        x = _padded(x, size, strides, (1,) * len(size), padding, value=lowest)
        slices, _ = _patches(x, size, strides, (1,) * len(size))
        return max(stack(slices, axis=-1), axis=-1)

    return _pool(inputs, pool_size, strides, padding, data_format, reducer)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    def reducer(x, size, strides, padding):
        ones_ = (1,) * len(size)
        padded = _padded(x, size, strides, ones_, padding)
        slices, _ = _patches(padded, size, strides, ones_)
        total = sum(stack(slices, axis=-1), axis=-1)
        if padding == "valid" or padded.shape == x.shape:
            return total / float(math.prod(size))
        # 'same' averages over the window's in-bounds entries only, as Keras does.
        mask = _padded(ones((1,) + x.shape[1:-1] + (1,), x.dtype), size, strides, ones_,
                       padding)
        mask_slices, _ = _patches(mask, size, strides, ones_)
        count = sum(stack(mask_slices, axis=-1), axis=-1)
        return divide(total, count)

    return _pool(inputs, pool_size, strides, padding, data_format, reducer)


__all__ = [
    "average_pool",
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "max_pool",
    "separable_conv",
]
