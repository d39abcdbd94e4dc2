"""Image augmentation layers: RandomFlip, RandomRotation, RandomZoom.

Active in training (the default when called directly, as in Keras 3); the identity in
inference. Each batch's random parameters are one host draw (`random_state.host_sample`), so a
traced train step draws fresh ones at each replay; the images themselves stay on the device
(`ops.flip` / `ops.image.affine_transform`, a gather).
"""

import math

import numpy as np

from webkeras import ops
from webkeras.backend import image_data_format
from webkeras.ops.core import is_float_dtype
from webkeras.layers.layer import Layer
from webkeras.utils import random_state

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class _RandomImageLayer(Layer):
    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.data_format = data_format or image_data_format()
        self._rng = random_state.make_rng(seed) if seed is not None else None
        self.supports_masking = False

    def _image_axes(self, ndim):
        """(batch-free) height axis, counted from the end."""
        return -2 if self.data_format == "channels_first" else -3

    def _draw(self, sample):
        return random_state.host_sample(self._rng, sample)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


class RandomFlip(_RandomImageLayer):
    """Flips each image horizontally and/or vertically with probability 1/2 in training."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in FLIP_MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode={mode!r}; "
                             f"expected one of {FLIP_MODES}.")
        self.mode = mode

    def call(self, inputs, training=True):
        if not training:
            return inputs
        inputs = ops.convert_to_tensor(inputs)
        h_axis = self._image_axes(inputs.ndim)
        batch = inputs.shape[0] if inputs.ndim == 4 else 1
        shape = (batch,) + (1,) * 3 if inputs.ndim == 4 else (1, 1, 1)
        dtype = inputs.dtype if is_float_dtype(inputs.dtype) else "float32"
        flips = self._draw(lambda rng: (rng.random(shape) <= 0.5).astype(dtype))
        flips = ops.cast(ops.convert_to_tensor(flips), "bool")
        out = inputs
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            out = ops.where(flips, ops.flip(out, axis=h_axis + 1), out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            out = ops.where(flips, ops.flip(out, axis=h_axis), out)
        return out

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


def _factor_range(factor, name):
    lower, upper = (factor if isinstance(factor, (tuple, list)) else (-factor, factor))
    if lower > upper:
        raise ValueError(f"`{name}` must be (lower, upper) with lower <= upper; received "
                         f"{name}={factor}")
    return float(lower), float(upper)


class _RandomAffine(_RandomImageLayer):
    """A random affine transform per image, resampled with `ops.image.affine_transform`."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in ops.image.FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one "
                                      f"{ops.image.FILL_MODES}.")
        if interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected "
                                      "of one ('nearest', 'bilinear').")
        self.fill_mode, self.fill_value, self.interpolation = fill_mode, fill_value, interpolation

    def _matrices(self, rng, batch, height, width):
        raise NotImplementedError

    def call(self, inputs, training=True):
        if not training:
            return inputs
        inputs = ops.convert_to_tensor(inputs)
        h_axis = self._image_axes(inputs.ndim)
        height, width = inputs.shape[h_axis], inputs.shape[h_axis + 1]
        batch = inputs.shape[0] if inputs.ndim == 4 else 1
        matrices = self._draw(lambda rng: self._matrices(rng, batch, height, width))
        if inputs.ndim == 3:
            matrices = matrices[0]
        return ops.image.affine_transform(
            inputs, matrices, interpolation=self.interpolation, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "interpolation": self.interpolation}


class RandomRotation(_RandomAffine):
    """Rotates each image by a random angle of `factor` turns (a float f: [-f, f]; or
    (lower, upper)) about its centre, in training.

    Example:
    ```python
    augment = keras.layers.RandomRotation(0.1)  # up to +-36 degrees
    ```
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = factor
        self._range = _factor_range(factor, "factor")
        self.value_range = value_range

    def _matrices(self, rng, batch, height, width):
        # Keras 3's rotation about the centre ((width - 1) / 2, (height - 1) / 2).
        angle = rng.uniform(self._range[0] * 2 * math.pi, self._range[1] * 2 * math.pi,
                            size=batch)
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
        zeros = np.zeros(batch)
        return np.stack([cos, -sin, cx - cx * cos + cy * sin, sin, cos,
                         cy - cx * sin - cy * cos, zeros, zeros], axis=1).astype("float32")

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomZoom(_RandomAffine):
    """Zooms each image by a random factor in training: `height_factor` f gives a zoom of
    1 + [-f, f] on the height (negative: zoom in); `width_factor` None keeps the aspect."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height_range = _factor_range(height_factor, "height_factor")
        self._width_range = None if width_factor is None else \
            _factor_range(width_factor, "width_factor")
        for lower in (self._height_range[0], (self._width_range or (0,))[0]):
            if lower < -1.0:
                raise ValueError(f"`height_factor` and `width_factor` must be >= -1; "
                                 f"received height_factor={height_factor}, "
                                 f"width_factor={width_factor}")

    def _matrices(self, rng, batch, height, width):
        zoom_h = rng.uniform(1 + self._height_range[0], 1 + self._height_range[1], (batch,))
        zoom_w = zoom_h if self._width_range is None else \
            rng.uniform(1 + self._width_range[0], 1 + self._width_range[1], (batch,))
        zeros = np.zeros(batch)
        return np.stack([zoom_w, zeros, (width - 1) / 2 * (1 - zoom_w), zeros, zoom_h,
                         (height - 1) / 2 * (1 - zoom_h), zeros, zeros],
                        axis=1).astype("float32")

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}
