"""Normalization: (x - mean) / sqrt(variance), per feature along `axis`, from given
statistics or from `adapt(data)`."""

import numpy as np

from webkeras import backend, ops
from webkeras.layers.layer import Layer


class Normalization(Layer):
    """Centres and scales inputs feature-wise; `adapt(data)` learns the mean and variance.

    Example:
    ```python
    layer = keras.layers.Normalization()  # one mean and variance per last-axis feature
    layer.adapt(x_train)
    y = layer(x_train)  # mean ~0, variance ~1 per feature
    ```
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must "
                             f"be set. Received: mean={mean} and variance={variance}")
        self.input_mean, self.input_variance, self.invert = mean, variance, invert
        self.supports_masking = True

    def _kept_axes(self, ndim):
        return sorted(a % ndim for a in self.axis)

    def build(self, input_shape):
        ndim = len(input_shape)
        kept = self._kept_axes(ndim)
        if any(input_shape[a] is None for a in kept):
            raise ValueError(f"All `axis` values to be kept must have a known shape. Received "
                             f"axis={self.axis}, input_shape={input_shape}")
        self._broadcast_shape = [input_shape[a] if a in kept else 1 for a in range(ndim)]
        stats_shape = tuple(input_shape[a] for a in kept)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stats_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stats_shape,
                                                  initializer="ones", trainable=False)
        self.built = True

    def adapt(self, data):
        """Sets the mean and variance from `data` (an array, or batches of arrays), reduced
        over every axis but `axis`."""
        if self.input_mean is not None:
            raise ValueError("adapt: this Normalization was given `mean` and `variance`; "
                             "create it without them to learn them from data.")
        batches = [data] if hasattr(data, "shape") else list(data)
        arrays = [np.asarray(ops.convert_to_numpy(b), dtype=np.float64) for b in batches]
        if not self.built:
            self.build((None,) + arrays[0].shape[1:])
        kept = self._kept_axes(arrays[0].ndim)
        reduce = tuple(a for a in range(arrays[0].ndim) if a not in kept)
        count = sum(int(np.prod([a.shape[i] for i in reduce])) for a in arrays)
        mean = sum(a.sum(axis=reduce) for a in arrays) / count
        variance = sum(((a - mean.reshape(self._broadcast_shape)) ** 2).sum(axis=reduce)
                       for a in arrays) / count
        self.adapt_mean.assign(mean.astype(self.adapt_mean.dtype))
        self.adapt_variance.assign(variance.astype(self.adapt_variance.dtype))

    def _statistics(self, dtype):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype=dtype),
                                   self._broadcast_shape)
            variance = np.broadcast_to(np.asarray(self.input_variance, dtype=dtype),
                                       self._broadcast_shape)
            return ops.convert_to_tensor(mean), ops.convert_to_tensor(variance)
        return (ops.reshape(ops.cast(self.adapt_mean, dtype), self._broadcast_shape),
                ops.reshape(ops.cast(self.adapt_variance, dtype), self._broadcast_shape))

    def call(self, inputs):
        inputs = ops.cast(inputs, self.dtype)
        mean, variance = self._statistics(self.dtype)
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        return mean + inputs * scale if self.invert else (inputs - mean) / scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def listed(value):
            return np.asarray(value).tolist() if value is not None else None

        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": listed(self.input_mean), "variance": listed(self.input_variance)}
