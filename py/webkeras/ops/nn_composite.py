"""Neural-network ops composed from others (keras.ops names): normalize, batch/layer/RMS
normalization, dot_product_attention, psnr, depth_to_space, space_to_depth."""

import math

import numpy as np

from webkeras.backend import epsilon as default_epsilon
from webkeras.backend import image_data_format
from webkeras.ops.array import repeat
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype
from webkeras.ops.numpy import (
    expand_dims, maximum, mean, minimum, reshape, sqrt, square, sum,
    transpose, where,
)


def _float(x):
    x = convert_to_tensor(x)
    return x if is_float_dtype(x.dtype) else cast(x, "float32")


def normalize(x, axis=-1, order=2, epsilon=None):
    """x divided by its `order`-norm along `axis` (at least `epsilon`)."""
    from webkeras.ops.linalg import norm

    x = _float(x)
    epsilon = default_epsilon() if epsilon is None else epsilon
    if order == 2:
        inverse = 1.0 / sqrt(sum(square(x), axis=axis, keepdims=True))
        return x * minimum(inverse, 1.0 / epsilon)
    return x / maximum(norm(x, ord=order, axis=axis, keepdims=True), epsilon)


def _along(v, x, axis):
    """A 1-D per-channel tensor shaped to broadcast against x along `axis`."""
    v = convert_to_tensor(v)
    if v.ndim != 1:
        return v
    return reshape(v, tuple(-1 if i == axis % x.ndim else 1 for i in range(x.ndim)))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, statistics per `axis`."""
    x = _float(x)
    out = (x - _along(mean, x, axis)) / sqrt(_along(variance, x, axis) + epsilon)
    if scale is not None:
        out = out * _along(scale, x, axis)
    if offset is not None:
        out = out + _along(offset, x, axis)
    return out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    x = _float(x)
    epsilon = 1e-3 if epsilon is None else epsilon
    centred = x - mean(x, axis=axis, keepdims=True)
    out = centred / sqrt(mean(square(centred), axis=axis, keepdims=True) + epsilon)
    if gamma is not None:
        out = out * gamma
    return out + beta if beta is not None else out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = _float(x)
    epsilon = default_epsilon() if epsilon is None else epsilon
    out = x / sqrt(mean(square(x), axis=axis, keepdims=True) + epsilon)
    return out * scale if scale is not None else out


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias, masked) v over (batch, time, heads, head_dim) tensors
    (or the same without the batch axis). Keys and values may have fewer heads than the
    query (grouped-query attention): each is shared by heads // kv_heads query heads.

    `mask` is boolean, True where attention is allowed, broadcast to (batch, heads, T, S).
    """
    from webkeras.ops.contraction import einsum
    from webkeras.ops.nn import softmax

    if flash_attention:
        raise NotImplementedError("dot_product_attention(flash_attention=True) needs a fused "
                                  "GPU kernel; leave it None or False.")
    query, key, value = _float(query), _float(key), _float(value)
    unbatched = query.ndim == 3
    if unbatched:
        query, key, value = (expand_dims(t, 0) for t in (query, key, value))
    heads, kv_heads = query.shape[2], key.shape[2]
    if heads != kv_heads:
        if heads % kv_heads:
            raise ValueError(f"dot_product_attention: {heads} query heads cannot share "
                             f"{kv_heads} key/value heads evenly.")
        key = repeat(key, heads // kv_heads, axis=2)
        value = repeat(value, heads // kv_heads, axis=2)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    logits = einsum("btnh,bsnh->bnts", query, key) * scale
    if attn_logits_soft_cap is not None:
        from webkeras.ops.numpy import tanh

        logits = tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + bias
    allowed = None if mask is None else cast(convert_to_tensor(mask), "bool")
    if is_causal:
        t, s = logits.shape[-2:]
        # As Keras: query i attends to keys 0..i.
        causal = convert_to_tensor(np.tri(t, s, 0, dtype=bool))
        allowed = causal if allowed is None else where(allowed, causal, False)
    if allowed is not None:
        # As Keras: a large negative number rather than -inf, so a fully masked row stays
        # finite (uniform weights) instead of NaN.
        logits = where(allowed, logits, -0.7 * float(np.finfo(np.float32).max))
    weights = softmax(logits, axis=-1)
    out = einsum("bnts,bsnh->btnh", weights, value)
    return reshape(out, out.shape[1:]) if unbatched else out


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mean squared error)."""
    from webkeras.ops.numpy import log

    x1, x2 = _float(x1), _float(x2)
    mse = mean(square(x1 - x2))
    return 20.0 * math.log10(max_val) - 10.0 * log(mse) / math.log(10.0)


def _to_channels_last(x, data_format):
    data_format = data_format or image_data_format()
    if data_format == "channels_first":
        return transpose(x, (0, 2, 3, 1)), True
    return x, False


def depth_to_space(x, block_size, data_format=None):
    """(N, H, W, C * b * b) -> (N, H * b, W * b, C): channel blocks become pixel blocks."""
    x = convert_to_tensor(x)
    x, flipped = _to_channels_last(x, data_format)
    n, h, w, c = x.shape
    b = int(block_size)
    if c % (b * b):
        raise ValueError(f"depth_to_space: {c} channels do not split into {b}x{b} blocks.")
    out = reshape(x, (n, h, w, b, b, c // (b * b)))
    out = reshape(transpose(out, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))
    return transpose(out, (0, 3, 1, 2)) if flipped else out


def space_to_depth(x, block_size, data_format=None):
    """(N, H * b, W * b, C) -> (N, H, W, C * b * b): the inverse of depth_to_space."""
    x = convert_to_tensor(x)
    x, flipped = _to_channels_last(x, data_format)
    n, h, w, c = x.shape
    b = int(block_size)
    if h % b or w % b:
        raise ValueError(f"space_to_depth: a {h}x{w} image does not split into {b}x{b} "
                         "blocks.")
    out = reshape(x, (n, h // b, b, w // b, b, c))
    out = reshape(transpose(out, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
    return transpose(out, (0, 3, 1, 2)) if flipped else out
