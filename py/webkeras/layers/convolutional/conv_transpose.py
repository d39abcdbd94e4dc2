"""Conv1DTranspose, Conv2DTranspose: the gradient of a convolution, as a layer."""

from webkeras import ops
from webkeras.layers.convolutional.base_conv import BaseConv, standardize_tuple
from webkeras.ops.conv import conv_transpose_output_length


class BaseConvTranspose(BaseConv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         1, **kwargs)
        self.output_padding = None if output_padding is None else standardize_tuple(
            output_padding, self.rank, "output_padding", allow_zero=True)
        if self.output_padding is not None:
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        "Strides must be greater than output padding. Received strides="
                        f"{self.strides}, output_padding={self.output_padding}.")

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def convolution_op(self, inputs, kernel):
        return ops.conv_transpose(inputs, kernel, strides=self.strides, padding=self.padding,
                                  output_padding=self.output_padding,
                                  data_format=self.data_format,
                                  dilation_rate=self.dilation_rate)

    def _spatial_output(self, spatial):
        pads = self.output_padding or (None,) * self.rank
        return tuple(conv_transpose_output_length(d, k, s, r, self.padding, p)
                     for d, k, s, r, p in zip(spatial, self.kernel_size, self.strides,
                                              self.dilation_rate, pads))

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2D convolution ("deconvolution"): upsamples by `strides`.

    Kernel shape `(*kernel_size, filters, in_channels)`, as in Keras.
    """

    rank = 2
