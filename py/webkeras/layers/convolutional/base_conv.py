"""Conv1D, Conv2D, Conv3D on `keras.ops.conv` (im2col), with Keras's arguments and config."""

from webkeras import activations, constraints, initializers, ops, regularizers
from webkeras.backend import image_data_format
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer
from webkeras.ops.conv import conv_output_length


def standardize_tuple(value, n, name, allow_zero=False):
    if isinstance(value, int):
        value = (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received {name}={value}")
    low = 0 if allow_zero else 1
    if any(v < low for v in value):
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received {name}={value}, including values < {low}")
    return value


def standardize_padding(padding, allow_causal=False):
    padding = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be a list/tuple or one of {allowed}. "
                         f"Received: {padding}")
    return padding


def standardize_data_format(data_format):
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format


class BaseConv(Layer):
    """The shared part of the convolution layers: config, weights, shapes."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if filters is not None and (not isinstance(filters, int) or filters <= 0):
            raise ValueError("Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.filters = filters
        self.groups = groups or 1
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = standardize_tuple(strides, self.rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=self.rank + 2)
        if filters is not None and filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={self.groups}, filters={filters}.")
        if self.strides != (1,) * self.rank and self.dilation_rate != (1,) * self.rank:
            raise ValueError("`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _kernel_shape(self, channels):
        return self.kernel_size + (channels // self.groups, self.filters)

    def build(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to layer '{self.name}' "
                             f"should be defined. Received input_shape={input_shape}")
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of "
                f"groups. Received groups={self.groups}, but the input has {channels} "
                f"channels (full input shape is {input_shape}).")
        self.input_spec = InputSpec(min_ndim=self.rank + 2,
                                    axes={self._channel_axis(): channels})
        self.kernel = self.add_weight(
            name="kernel", shape=self._kernel_shape(channels),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def convolution_op(self, inputs, kernel):
        return ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate, data_format=self.data_format)

    def _add_bias(self, outputs):
        if self.bias is None:
            return outputs
        if self.data_format == "channels_last":
            return outputs + self.bias
        return outputs + ops.reshape(self.bias, (self.filters,) + (1,) * self.rank)

    def call(self, inputs):
        outputs = self._add_bias(self.convolution_op(inputs, self.kernel))
        return self.activation(outputs)

    def _spatial_output(self, spatial):
        return tuple(conv_output_length(d, k, s, r, self.padding) for d, k, s, r
                     in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            spatial = self._spatial_output(input_shape[1:-1])
            shape = (input_shape[0],) + spatial + (self.filters,)
        else:
            spatial = self._spatial_output(input_shape[2:])
            shape = (input_shape[0], self.filters) + spatial
        if any(d is not None and d <= 0 for d in spatial):
            raise ValueError(
                "Computed output size would be negative. Received "
                f"`inputs shape={input_shape}`, `kernel shape={self.kernel_size}`, "
                f"`dilation_rate={self.dilation_rate}`.")
        return shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Conv1D(BaseConv):
    """1D convolution over `(batch, steps, channels)`; padding may also be 'causal'."""

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, **kwargs):
        causal = str(padding).lower() == "causal"
        super().__init__(filters, kernel_size, strides, "valid" if causal else padding,
                         data_format, dilation_rate, groups, **kwargs)
        if causal:
            self.padding = "causal"

    def convolution_op(self, inputs, kernel):
        if self.padding != "causal":
            return super().convolution_op(inputs, kernel)
        left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        pairs = [(0, 0), (left, 0), (0, 0)] if self.data_format == "channels_last" \
            else [(0, 0), (0, 0), (left, 0)]
        return ops.conv(ops.pad(inputs, pairs), kernel, strides=self.strides, padding="valid",
                        dilation_rate=self.dilation_rate, data_format=self.data_format)

    def _spatial_output(self, spatial):
        if self.padding == "causal":
            return tuple(None if d is None else (d + s - 1) // s
                         for d, s in zip(spatial, self.strides))
        return super()._spatial_output(spatial)


class Conv2D(BaseConv):
    """2D convolution over images, `(batch, rows, cols, channels)` by default.

    Example:
    ```python
    layer = keras.layers.Conv2D(32, 3, activation="relu", padding="same")
    ```
    """

    rank = 2


class Conv3D(BaseConv):
    rank = 3
