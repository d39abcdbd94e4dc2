"""Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout: active only in training."""

import numpy as np

from webkeras import ops
from webkeras.backend import image_data_format
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer
from webkeras.utils import random_state


def _check_rate(rate):
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                         f"between 0 and 1. Received: rate={rate}")
    return rate


class Dropout(Layer):
    """Sets inputs to 0 with probability `rate` in training and scales the rest by
    `1 / (1 - rate)`; the identity at inference.

    Example:
    ```python
    layer = keras.layers.Dropout(0.2)
    y = layer(x, training=True)
    ```
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = random_state.make_rng(seed) if seed is not None else None
        self.supports_masking = True

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return inputs.shape
        return tuple(d if n is None else n for n, d in zip(self.noise_shape, inputs.shape))

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape, dtype, rate = self._noise_shape(inputs), inputs.dtype, self.rate
        # A host draw: a traced step draws it again at each replay.
        scale = random_state.host_sample(
            self._rng, lambda rng: random_state.dropout_scale(rng, shape, rate, dtype))
        return inputs * ops.convert_to_tensor(scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class SpatialDropout1D(Dropout):
    """Drops whole feature maps: one draw per (sample, channel)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def _noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return config


class SpatialDropout2D(Dropout):
    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(ndim=4)

    def _noise_shape(self, inputs):
        n, c = inputs.shape[0], inputs.shape[-1 if self.data_format == "channels_last" else 1]
        return (n, 1, 1, c) if self.data_format == "channels_last" else (n, c, 1, 1)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        return {**config, "data_format": self.data_format}


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation `stddev` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float "
                             f"value between 0 and 1. Received: stddev={stddev}")
        self.stddev, self.seed = stddev, seed
        self._rng = random_state.make_rng(seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        shape, dtype, stddev = inputs.shape, inputs.dtype, self.stddev
        noise = random_state.host_sample(
            self._rng, lambda rng: rng.normal(0.0, stddev, size=shape).astype(dtype))
        return inputs + ops.convert_to_tensor(noise)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies inputs by `N(1, rate / (1 - rate))` noise in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = _check_rate(rate), seed
        self._rng = random_state.make_rng(seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or not 0 < self.rate < 1:
            return inputs
        shape, dtype = inputs.shape, inputs.dtype
        stddev = np.sqrt(self.rate / (1.0 - self.rate))
        noise = random_state.host_sample(
            self._rng, lambda rng: rng.normal(1.0, stddev, size=shape).astype(dtype))
        return inputs * ops.convert_to_tensor(noise)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
