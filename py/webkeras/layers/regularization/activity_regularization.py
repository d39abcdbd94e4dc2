"""ActivityRegularization: passes its input through and adds an L1/L2 penalty on it."""

from webkeras import regularizers
from webkeras.layers.layer import Layer


class ActivityRegularization(Layer):
    """Adds `l1 * sum(|x|) + l2 * sum(x**2)` (divided by the batch size, as Keras 3 does)
    to the model's losses; the output is the input unchanged.

    Args:
        l1: L1 regularization factor (non-negative float).
        l2: L2 regularization factor (non-negative float).

    Input shape: any. Output shape: same as input.

    Example:

    >>> layer = keras.layers.ActivityRegularization(l1=0.1)
    >>> y = layer(np.ones((2, 3), "float32"))
    >>> float(layer.losses[0])  # 0.1 * 6 / 2
    0.3...
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
