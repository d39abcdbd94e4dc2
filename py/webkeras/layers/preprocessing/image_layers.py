"""Rescaling and Resizing: deterministic image preprocessing, in training and inference."""

from webkeras import ops
from webkeras.backend import image_data_format
from webkeras.layers.layer import Layer


class Rescaling(Layer):
    """`inputs * scale + offset`, computed in the layer's dtype.

    Example:
    ```python
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(images)  # [0, 255] -> [-1, 1]
    ```
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def call(self, inputs):
        inputs = ops.cast(inputs, self.dtype)
        return inputs * ops.cast(self.scale, self.dtype) + \
            ops.cast(self.offset, self.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Resizing(Layer):
    """Resizes images to (height, width) with `keras.ops.image.resize`."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = height, width
        self.interpolation, self.antialias = interpolation, antialias
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.data_format = data_format or image_data_format()

    def call(self, inputs):
        return ops.image.resize(
            inputs, (self.height, self.width), interpolation=self.interpolation,
            antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis = len(shape) - (2 if self.data_format == "channels_first" else 3)
        shape[h_axis], shape[h_axis + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias,
                "data_format": self.data_format}
