"""keras.ops.image: resize and rgb_to_grayscale.

Resizing is separable: along each spatial axis the output is a fixed (out, in) weight matrix
times the input, built on the host with jax.image.resize's kernels (half-pixel centres, as
Keras's JAX and TensorFlow backends resize), then one matmul. Nearest neighbour is a gather.
Both are differentiable compositions.
"""

import numpy as np

from webkeras.backend import image_data_format
from webkeras.ops.array import getitem, moveaxis, pad, take
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.elementwise import round as round_
from webkeras.ops.numpy import matmul, sum

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _keys_cubic(x):
    x = np.abs(x)
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return np.where(x >= 2.0, 0.0, out)


def _lanczos(radius):
    def kernel(x):
        x = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi ** 2 * x * x)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))

    return kernel


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0)}


def _weights(in_size, out_size, interpolation, antialias):
    """(out, in) resampling weights, as jax.image.scale_and_translate computes them."""
    inv_scale = in_size / out_size
    kernel_scale = max(inv_scale, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) * inv_scale - 0.5
    distance = np.abs(sample[:, None] - np.arange(in_size)[None, :]) / kernel_scale
    weights = _KERNELS[interpolation](distance)
    total = weights.sum(axis=1, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * np.finfo(np.float32).eps,
                       weights / np.where(total != 0, total, 1.0), 0.0)
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return np.where(inside[:, None], weights, 0.0)


def _resize_axis(x, axis, size, interpolation, antialias):
    in_size = x.shape[axis]
    if in_size == size:
        return x
    if interpolation == "nearest":
        index = np.floor((np.arange(size) + 0.5) * in_size / size).astype(np.int32)
        return take(x, np.minimum(index, in_size - 1), axis=axis)
    weights = _weights(in_size, size, interpolation, antialias).T.astype(np.float32)
    moved = moveaxis(x, axis, -1)
    return moveaxis(matmul(moved, convert_to_tensor(weights, dtype=x.dtype)), -1, axis)


def _fit_aspect(images, size, crop, fill_value, h_axis):
    """Centre-crop (crop=True) or pad with fill_value to the target aspect ratio."""
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    target_h, target_w = size
    want_h = int(float(width * target_h) / target_w)
    want_w = int(float(height * target_w) / target_h)
    key = [slice(None)] * images.ndim
    if crop:
        want_h, want_w = max(min(height, want_h), 1), max(min(width, want_w), 1)
        top, left = int((height - want_h) / 2), int((width - want_w) / 2)
        key[h_axis] = slice(top, top + want_h)
        key[h_axis + 1] = slice(left, left + want_w)
        return getitem(images, tuple(key))
    want_h, want_w = max(height, want_h), max(width, want_w)
    top, left = int((want_h - height) / 2), int((want_w - width) / 2)
    widths = [(0, 0)] * images.ndim
    widths[h_axis] = (top, want_h - height - top)
    widths[h_axis + 1] = (left, want_w - width - left)
    return pad(images, widths, constant_values=fill_value)


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Resize images (3-D, one image, or 4-D, a batch) to `size` = (height, width).

    Example:
    >>> keras.ops.image.resize(images, (64, 64))  # (n, h, w, c) -> (n, 64, 64, c)
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: `interpolation` must be one of {INTERPOLATIONS}; received "
                         f"{interpolation!r} ('area' is not supported yet).")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: pass only one of crop_to_aspect_ratio and "
                         "pad_to_aspect_ratio.")
    if pad_to_aspect_ratio and fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant'; received {fill_mode!r}.")
    images = convert_to_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"resize: images must be 3-D (height, width, channels) or 4-D "
                         f"(batch, height, width, channels); received shape {images.shape}.")
    size = tuple(int(d) for d in size)
    if len(size) != 2 or min(size) <= 0:
        raise ValueError(f"resize: `size` must be (height, width) > 0; received {size}.")
    data_format = data_format or image_data_format()
    h_axis = images.ndim - (2 if data_format == "channels_first" else 3)
    source_dtype = images.dtype
    x = images if is_float_dtype(images.dtype) else cast(images, "float32")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        x = _fit_aspect(x, size, crop_to_aspect_ratio, fill_value, h_axis)
    for axis, target in zip((h_axis, h_axis + 1), size):
        x = _resize_axis(x, axis, target, interpolation, antialias)
    if not is_float_dtype(source_dtype):
        x = cast(round_(x), source_dtype)
    return x


def rgb_to_grayscale(images, data_format=None):
    """Luma (0.2989 R + 0.5870 G + 0.1140 B), keeping a channel axis of size 1."""
    images = convert_to_tensor(images)
    data_format = data_format or image_data_format()
    axis = -3 if data_format == "channels_first" else -1
    if images.shape[axis] != 3:
        raise ValueError(f"rgb_to_grayscale: images need 3 channels on axis {axis}; received "
                         f"shape {images.shape}.")
    x = images if is_float_dtype(images.dtype) else cast(images, "float32")
    shape = [1] * images.ndim
    shape[axis] = 3
    weights = convert_to_tensor(np.array([0.2989, 0.5870, 0.1140]).reshape(shape), x.dtype)
    out = sum(x * weights, axis=axis, keepdims=True)
    return out if is_float_dtype(images.dtype) else cast(round_(out), images.dtype)
