"""ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D: edits of the spatial axes."""

from webkeras import ops
from webkeras.backend import image_data_format
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer


def _pairs(value, n, name):
    """An int, n ints, or n (before, after) pairs -> n pairs (Keras's argument forms)."""
    if isinstance(value, int):
        return ((value, value),) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"`{name}` should have {n} elements. Received: {name}={value}.")
    return tuple((v, v) if isinstance(v, int) else tuple(v) for v in value)


def _spatial_axes(data_format, rank):
    return tuple(range(1, rank - 1)) if data_format == "channels_last" \
        else tuple(range(2, rank))


class _SpatialLayer(Layer):
    rank = 2

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return _spatial_axes(self.data_format, self.rank + 2)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class ZeroPadding2D(_SpatialLayer):
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self.rank, "padding")

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(self._axes(), self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + a + b
        return tuple(shape)

    def call(self, inputs):
        pairs = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._axes(), self.padding):
            pairs[axis] = pair
        return ops.pad(inputs, pairs)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class ZeroPadding1D(ZeroPadding2D):
    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        pair = (padding, padding) if isinstance(padding, int) else tuple(padding)
        super().__init__((pair,), data_format, **kwargs)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding[0]}


class Cropping2D(_SpatialLayer):
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping")

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (a, b) in zip(self._axes(), self.cropping):
            if shape[axis] is not None:
                if a + b >= shape[axis]:
                    raise ValueError(
                        "Values in `cropping` argument should be smaller than the "
                        f"corresponding spatial dimension of the input. Received: "
                        f"input_shape={tuple(input_shape)}, cropping={self.cropping}")
                shape[axis] -= a + b
        return tuple(shape)

    def call(self, inputs):
        key = [slice(None)] * inputs.ndim
        for axis, (a, b) in zip(self._axes(), self.cropping):
            key[axis] = slice(a, inputs.shape[axis] - b)
        return ops.strided_slice(inputs, tuple(key))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping1D(Cropping2D):
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        pair = (cropping, cropping) if isinstance(cropping, int) else tuple(cropping)
        kwargs.pop("data_format", None)
        super().__init__((pair,), data_format="channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return {**config, "cropping": self.cropping[0]}


def _bilinear_upsample(x, axis, factor):
    """Upsamples `axis` by an integer `factor` as `jax.image.resize(method="linear")` does:
    half-pixel centres, edge samples clamped to the border, no antialiasing."""
    n = x.shape[axis]
    positions = [min(max((o + 0.5) / factor - 0.5, 0.0), n - 1.0) for o in range(n * factor)]
    lower = [int(p) for p in positions]
    upper = [min(i + 1, n - 1) for i in lower]
    weight_shape = [1] * x.ndim
    weight_shape[axis] = n * factor
    upper_weight = ops.reshape(ops.convert_to_tensor(
        [p - i for p, i in zip(positions, lower)], x.dtype), weight_shape)
    return ops.take(x, lower, axis=axis) * (1.0 - upper_weight) + \
        ops.take(x, upper, axis=axis) * upper_weight


class UpSampling2D(_SpatialLayer):
    """Upsamples rows and columns by the integer factors `size`.

    `interpolation="nearest"` repeats them; `"bilinear"` interpolates linearly with
    half-pixel centres, as Keras 3's `ops.image.resize` does.
    """

    INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = (size,) * self.rank if isinstance(size, int) else tuple(size)
        interpolation = str(interpolation).lower()
        if interpolation not in self.INTERPOLATIONS:
            raise NotImplementedError(
                f"UpSampling2D(interpolation={interpolation!r}) is not supported: expected "
                f"one of {self.INTERPOLATIONS}.")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(self._axes(), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def call(self, inputs):
        for axis, factor in zip(self._axes(), self.size):
            if self.interpolation == "bilinear":
                inputs = _bilinear_upsample(inputs, axis, factor)
            else:
                inputs = ops.repeat(inputs, factor, axis=axis)
        return inputs

    def get_config(self):
        return {**super().get_config(), "size": self.size, "interpolation": self.interpolation}


class UpSampling1D(Layer):
    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}
