"""TimeDistributed: applies a layer to every temporal slice of its input."""

from webkeras import ops
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer
from webkeras.layers.serialization import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Example: `TimeDistributed(Dense(8))` on `(batch, 10, 16)` gives `(batch, 10, 8)`."""

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "  # noqa: TRY004
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    def build(self, input_shape):
        self.layer._maybe_build((input_shape[0],) + tuple(input_shape[2:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (inner[0], input_shape[1]) + tuple(inner[1:])

    def call(self, inputs, training=None, mask=None):
        batch, steps = inputs.shape[0], inputs.shape[1]
        flat = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        kwargs = {"training": training} if training is not None else {}
        outputs = self.layer(flat, **kwargs)
        return ops.reshape(outputs, (batch, steps) + tuple(outputs.shape[1:]))

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A custom inner layer loads from `custom_objects` as well as from the registry."""
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
