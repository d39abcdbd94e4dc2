"""keras.ops.image: resize, rgb_to_grayscale, extract_patches and affine_transform.

Resizing is separable: along each spatial axis the output is a fixed (out, in) weight matrix
times the input, built on the host with jax.image.resize's kernels (half-pixel centres, as
Keras's JAX and TensorFlow backends resize), then one matmul. Nearest neighbour is a gather.
Both are differentiable compositions, as are extract_patches (strided slices, stacked) and
affine_transform (a gather of the sampled pixels, weighted on the device).
"""

import numpy as np

from webkeras.backend import image_data_format
from webkeras.ops.array import getitem, moveaxis, pad, stack, take
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.elementwise import floor, logical_and, mod
from webkeras.ops.elementwise import round as round_
from webkeras.ops.numpy import abs, clip, expand_dims, matmul, reshape, sum, where

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


def _check_images(name, images, ndims=(3, 4)):
    images = convert_to_tensor(images)
    if images.ndim not in ndims:
        raise ValueError(f"{name}: images must be 3-D (height, width, channels) or 4-D "
                         f"(batch, height, width, channels); received shape {images.shape}.")
    return images


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of `size` (an int or (height, width)) from images, each flattened into the
    last axis in (row, column, channel) order, as Keras 3: (n, h, w, c) ->
    (n, rows, cols, size_h * size_w * c). `strides` defaults to `size`.

    Example:
    >>> keras.ops.image.extract_patches(images, size=6)  # (n, 72, 72, 3) -> (n, 12, 12, 108)
    """
    images = _check_images("extract_patches", images)
    size_h, size_w = (size, size) if isinstance(size, int) else tuple(size)
    stride_h, stride_w = (size_h, size_w) if strides is None else (
        (strides, strides) if isinstance(strides, int) else tuple(strides))
    rate_h, rate_w = (dilation_rate, dilation_rate) if isinstance(dilation_rate, int) \
        else tuple(dilation_rate)
    if padding not in ("valid", "same"):
        raise ValueError(f"extract_patches: padding must be 'valid' or 'same'; received "
                         f"{padding!r}.")
    unbatched = images.ndim == 3
    x = expand_dims(images, 0) if unbatched else images
    if (data_format or image_data_format()) == "channels_first":
        x = moveaxis(x, 1, -1)
    span_h, span_w = (size_h - 1) * rate_h + 1, (size_w - 1) * rate_w + 1
    height, width = x.shape[1], x.shape[2]
    if padding == "same":
        out_h, out_w = -(-height // stride_h), -(-width // stride_w)
        pad_h = max((out_h - 1) * stride_h + span_h - height, 0)
        pad_w = max((out_w - 1) * stride_w + span_w - width, 0)
        x = pad(x, [(0, 0), (pad_h // 2, pad_h - pad_h // 2),
                    (pad_w // 2, pad_w - pad_w // 2), (0, 0)])
    else:
        out_h, out_w = (height - span_h) // stride_h + 1, (width - span_w) // stride_w + 1
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"extract_patches: patches of {(size_h, size_w)} do not fit images "
                         f"of shape {images.shape} with padding='valid'.")
    # One strided slice per position inside the patch, in (row, column) order.
    slices = [getitem(x, (slice(None),
                          slice(i * rate_h, i * rate_h + (out_h - 1) * stride_h + 1, stride_h),
                          slice(j * rate_w, j * rate_w + (out_w - 1) * stride_w + 1, stride_w)))
              for i in range(size_h) for j in range(size_w)]
    patches = stack(slices, axis=3)  # (n, out_h, out_w, size_h * size_w, c)
    patches = reshape(patches, (x.shape[0], out_h, out_w, size_h * size_w * x.shape[-1]))
    if (data_format or image_data_format()) == "channels_first":
        patches = moveaxis(patches, -1, 1)
    return patches[0] if unbatched else patches


FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fix_index(index, size, fill_mode):
    """Integer (as float) source indices moved inside [0, size) the way `fill_mode` extends
    the image past its edges (Keras's map_coordinates index fixers)."""
    if fill_mode == "nearest":
        return clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return mod(index, size)
    if fill_mode == "mirror":
        half = max(size - 1, 1)  # a triangular wave of half-period size - 1
        return abs(mod(index + half, 2 * half) - half) if size > 1 else index * 0
    if fill_mode == "reflect":
        mirrored = abs(mod(2 * index + 1 + 2 * size, 4 * size) - 2 * size)
        return floor((mirrored - 1) / 2)
    return index  # constant: outside points are masked out by the caller


def _round_half_away(x):
    """Rounding as JAX's map_coordinates picks the nearest pixel (halves away from zero)."""
    return where(x >= 0, floor(x + 0.5), -floor(0.5 - x))


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Images resampled through projective `transform`s, Keras 3's `ops.image.affine_transform`.

    `transform` is (8,) or (batch, 8): [a0, a1, a2, b0, b1, b2, c0, c1] maps each output
    point (x, y) to the input point ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with
    k = c0 x + c1 y + 1. Points outside the input follow `fill_mode`.
    """
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"affine_transform: interpolation must be 'nearest' or 'bilinear'; "
                         f"received {interpolation!r}.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"affine_transform: fill_mode must be one of {FILL_MODES}; "
                         f"received {fill_mode!r}.")
    images = _check_images("affine_transform", images)
    transform = convert_to_tensor(transform, dtype="float32")
    unbatched = images.ndim == 3
    x = expand_dims(images, 0) if unbatched else images
    if transform.ndim == 1:
        transform = expand_dims(transform, 0)
    channels_first = (data_format or image_data_format()) == "channels_first"
    if channels_first:
        x = moveaxis(x, 1, -1)
    batch, height, width, channels = x.shape
    if transform.shape not in ((batch, 8), (1, 8)):
        raise ValueError(f"affine_transform: transform must be (8,) or (batch, 8) = "
                         f"({batch}, 8); received shape {transform.shape}.")
    source_dtype = x.dtype
    x = x if is_float_dtype(x.dtype) else cast(x, "float32")
    offsets = np.arange(batch, dtype=np.float32).reshape(batch, 1, 1) * (height * width)
    grid_y, grid_x = np.meshgrid(np.arange(height, dtype=np.float32),
                                 np.arange(width, dtype=np.float32), indexing="ij")
    coefficient = [reshape(transform[:, i], (-1, 1, 1)) for i in range(8)]
    a0, a1, a2, b0, b1, b2, c0, c1 = coefficient
    k = c0 * grid_x + c1 * grid_y + 1.0 + 0.0 * offsets  # (batch, height, width)
    src_x = (a0 * grid_x + a1 * grid_y + a2) / k
    src_y = (b0 * grid_x + b1 * grid_y + b2) / k
    if interpolation == "nearest":
        corners = [(_round_half_away(src_y), _round_half_away(src_x), None)]
    else:
        y0, x0 = floor(src_y), floor(src_x)
        wy, wx = src_y - y0, src_x - x0
        corners = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                   (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)]
    flat = reshape(x, (batch * height * width, channels))
    out, filled = 0.0, 0.0
    for row, col, weight in corners:
        row, col = _fix_index(row, height, fill_mode), _fix_index(col, width, fill_mode)
        inside = logical_and(logical_and(row >= 0, row <= height - 1),
                             logical_and(col >= 0, col <= width - 1))
        index = clip(row, 0, height - 1) * width + clip(col, 0, width - 1) + offsets
        values = reshape(take(flat, reshape(cast(index, "int32"), (-1,)), axis=0),
                         (batch, height, width, channels))
        weight = 1.0 if weight is None else weight
        if fill_mode == "constant":
            filled = filled + where(inside, 0.0, weight)
            weight = where(inside, weight, 0.0)
        out = out + expand_dims(weight, -1) * values
    if fill_mode == "constant" and fill_value:
        out = out + expand_dims(filled, -1) * float(fill_value)
    out = cast(out, x.dtype)
    if not is_float_dtype(source_dtype):
        out = cast(round_(out), source_dtype)
    if channels_first:
        out = moveaxis(out, -1, 1)
    return out[0] if unbatched else out
