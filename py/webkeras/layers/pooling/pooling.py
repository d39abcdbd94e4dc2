"""Max/Average pooling (1D, 2D) and the global pooling layers."""

from webkeras import ops
from webkeras.layers.convolutional.base_conv import (
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer
from webkeras.ops.conv import conv_output_length


class BasePooling(Layer):
    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, self.rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pool = ops.max_pool if self.mode == "max" else ops.average_pool
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[1:-1] if self.data_format == "channels_last" else input_shape[2:]
        out = tuple(conv_output_length(d, k, s, 1, self.padding)
                    for d, k, s in zip(spatial, self.pool_size, self.strides))
        if any(d is not None and d <= 0 for d in out):
            raise ValueError(
                "Computed output size would be negative. Received: "
                f"`inputs.shape={input_shape}` and `pool_size={self.pool_size}`.")
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (input_shape[-1],)
        return input_shape[:2] + out

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    rank, mode = 1, "max"


class MaxPooling2D(BasePooling):
    """Example: `keras.layers.MaxPooling2D((2, 2))` halves rows and columns."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    rank, mode = 1, "average"


class AveragePooling2D(BasePooling):
    rank, mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class BaseGlobalPooling(Layer):
    rank = 2
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return tuple(range(1, self.rank + 1)) if self.data_format == "channels_last" \
            else tuple(range(2, self.rank + 2))

    def call(self, inputs):
        reduce = ops.max if self.mode == "max" else ops.mean
        return reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    rank, mode = 2, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    rank, mode = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        # Average over the unmasked steps only, as Keras does.
        axis = 1 if self.data_format == "channels_last" else 2
        weights = ops.cast(mask, inputs.dtype)
        weights = ops.expand_dims(weights, -1 if axis == 1 else 1)
        total = ops.sum(inputs * weights, axis=axis, keepdims=self.keepdims)
        return total / ops.sum(weights, axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    rank, mode = 2, "average"


MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
