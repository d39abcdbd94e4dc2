"""keras.random: sampling functions. Values are drawn on the host (NumPy PCG64) from the
generator `seed` selects (see seed_generator.py) and uploaded as one tensor of the current
backend; distribution parameters given as tensors stay differentiable (x * stddev + mean).
Each draw, up to the exact array uploaded, is one host draw (`seeded_draw`), so a traced step
draws it again at each replay.
"""

import numpy as np

from webkeras import ops
from webkeras.backend import floatx
from webkeras.ops.tensor import Tensor
from webkeras.random.seed_generator import seeded_draw
from webkeras.utils import random_state


def _shape(shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(d is None for d in shape):
        raise ValueError(f"Random shapes must be fully defined; received {shape}.")
    return tuple(int(d) for d in shape)


def _float_dtype(dtype, name):
    dtype = ops.core.standardize_dtype(dtype) or floatx()
    if not ops.core.is_float_dtype(dtype):
        raise ValueError(f"`keras.random.{name}` requires a floating point `dtype`; received "
                         f"dtype={dtype}." + (" Use keras.random.randint for integers."
                                              if name == "uniform" else ""))
    return dtype


def _affine(seed, sample, scale, shift, dtype):
    """sample(generator) * scale + shift: on the host for numbers, with ops (differentiable)
    for tensors."""
    if isinstance(scale, Tensor) or isinstance(shift, Tensor):
        values = seeded_draw(seed, lambda rng: sample(rng).astype(dtype))
        return ops.add(ops.multiply(ops.convert_to_tensor(values), ops.cast(scale, dtype)),
                       ops.cast(shift, dtype))
    return ops.convert_to_tensor(seeded_draw(
        seed, lambda rng: np.asarray(sample(rng) * scale + shift, dtype=dtype)))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Values from a normal distribution.

    Args:
        shape: output shape.
        mean, stddev: the distribution's parameters (numbers or tensors).
        dtype: a float dtype (default floatx()).
        seed: an int (same values each call), a `keras.random.SeedGenerator`, or None.

    Example:
    >>> keras.random.normal((2, 3), seed=1)
    """
    dtype, shape = _float_dtype(dtype, "normal"), _shape(shape)
    return _affine(seed, lambda rng: rng.standard_normal(shape), stddev, mean, dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Values uniform in [minval, maxval)."""
    dtype, shape = _float_dtype(dtype, "uniform"), _shape(shape)
    if isinstance(minval, Tensor) or isinstance(maxval, Tensor):
        return _affine(seed, lambda rng: rng.random(shape), ops.subtract(maxval, minval),
                       minval, dtype)
    return _affine(seed, lambda rng: rng.random(shape), maxval - minval, minval, dtype)


def truncated_normal_values(rng, shape, stddev):
    """NumPy values from `rng`: standard normal, redrawn beyond two deviations, scaled."""
    values = rng.normal(0.0, 1.0, size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.normal(0.0, 1.0, size=int(outside.sum()))
        outside = np.abs(values) > 2
    return values * stddev


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values, with those more than two standard deviations out drawn again."""
    dtype, shape = _float_dtype(dtype, "truncated_normal"), _shape(shape)
    return _affine(seed, lambda rng: truncated_normal_values(rng, shape, 1.0), stddev, mean,
                   dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in [minval, maxval)."""
    dtype, shape, low, high = ops.core.standardize_dtype(dtype), _shape(shape), int(minval), \
        int(maxval)
    return ops.convert_to_tensor(seeded_draw(
        seed, lambda rng: rng.integers(low, high, size=shape).astype(dtype)))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the softmax of each row of `logits` (batch, classes) ->
    (batch, num_samples). Gumbel-max: the noise is uploaded, the argmax runs on the device."""
    logits = ops.convert_to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor of shape (batch_size, num_classes); "
                         f"received shape {logits.shape}.")
    batch, classes = logits.shape
    logits = logits if ops.core.is_float_dtype(logits.dtype) else ops.cast(logits, floatx())
    shape, noise_dtype = (batch, int(num_samples), classes), logits.dtype
    noise = seeded_draw(seed, lambda rng: rng.gumbel(size=shape).astype(noise_dtype))
    scores = ops.expand_dims(logits, 1) + ops.convert_to_tensor(noise)
    return ops.cast(ops.argmax(scores, axis=-1), dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element with probability `rate` and scale the rest by 1 / (1 - rate).

    `noise_shape` (None entries taken from `inputs`) shares one draw along axes of size 1.
    """
    inputs = ops.convert_to_tensor(inputs)
    if not 0 <= rate <= 1:
        raise ValueError(f"`rate` must be in [0, 1]; received rate={rate}.")
    if noise_shape is None:
        noise_shape = inputs.shape
    else:
        noise_shape = tuple(d if n is None else int(n)
                            for n, d in zip(noise_shape, inputs.shape))
    # The same test as the Dropout layer's, so a seed drops the same units in both.
    dtype = inputs.dtype
    scale = seeded_draw(seed, lambda rng: random_state.dropout_scale(rng, noise_shape, rate,
                                                                      dtype))
    return ops.multiply(inputs, ops.convert_to_tensor(scale))


def shuffle(x, axis=0, seed=None):
    """`x` with its entries along `axis` in a random order (differentiable: a gather)."""
    x = ops.convert_to_tensor(x)
    size = x.shape[axis]
    order = seeded_draw(seed, lambda rng: rng.permutation(size).astype(np.int32))
    return ops.take(x, order, axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Values from a gamma distribution of shape `alpha` (scale 1)."""
    dtype = _float_dtype(dtype, "gamma")
    alpha, shape = ops.convert_to_numpy(alpha), _shape(shape)
    return ops.convert_to_tensor(seeded_draw(
        seed, lambda rng: rng.standard_gamma(alpha, shape).astype(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Successes in `counts` trials of probability `probabilities` (floats, as Keras)."""
    dtype = ops.core.standardize_dtype(dtype) or floatx()
    counts = ops.convert_to_numpy(counts).astype(np.int64)
    probabilities = ops.convert_to_numpy(probabilities)
    shape = _shape(shape)
    return ops.convert_to_tensor(seeded_draw(
        seed, lambda rng: rng.binomial(counts, probabilities, size=shape).astype(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Values from a beta distribution with parameters `alpha` and `beta`."""
    dtype = _float_dtype(dtype, "beta")
    alpha, beta, shape = ops.convert_to_numpy(alpha), ops.convert_to_numpy(beta), _shape(shape)
    return ops.convert_to_tensor(seeded_draw(
        seed, lambda rng: rng.beta(alpha, beta, shape).astype(dtype)))
