"""Bidirectional: runs an RNN forwards and a copy backwards, then merges the two."""

from webkeras import ops
from webkeras.layers.layer import Layer
from webkeras.layers.serialization import deserialize_layer, serialize_layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Layer):
    """Example: `keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True))`."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize_layer(backward_layer)
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "  # noqa: TRY004
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should "
                             "be one of {'sum', 'mul', 'ave', 'concat', None}")
        super().__init__(**kwargs)
        # The copies are rebuilt from the layer's config: its own classes (a custom cell)
        # need no registration for that.
        own_classes = {type(sub).__name__: type(sub) for sub in layer._flatten_layers()}
        config = serialize_layer(layer)
        config["config"]["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = deserialize_layer(config, own_classes)
        if backward_layer is None:
            config = serialize_layer(layer)
            config["config"]["name"] = "backward_" + _strip(layer.name, "backward_")
            config["config"]["go_backwards"] = not layer.go_backwards
            backward_layer = deserialize_layer(config, own_classes)
        self.backward_layer = backward_layer
        self._layer_config = serialize_layer(layer)
        self._backward_given = backward_layer is not None and backward_layer is not self
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        if self.return_sequences:
            # Keras zeroes the outputs of masked steps in both directions.
            self.forward_layer.zero_output_for_mask = True
            self.backward_layer.zero_output_for_mask = True
        self._initial_weights = weights

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2.0
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer.call(sequences, initial_state=forward_state, mask=mask,
                                    training=training)
        y_rev = self.backward_layer.call(sequences, initial_state=backward_state, mask=mask,
                                         training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        output = self._merge(y, y_rev)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, list) else previous_mask
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if self.return_state:
            n = len(self.forward_layer.state_size) * 2
            out = output_mask if isinstance(output_mask, list) else [output_mask]
            return out + [None] * n
        return output_mask

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            states = list(shape[1:]) * 2
            shape = shape[0]
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        output = [shape, shape] if self.merge_mode is None else shape
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def get_config(self):
        config = {**super().get_config(), "merge_mode": self.merge_mode,
                  "layer": self._layer_config}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A custom inner layer or cell loads from `custom_objects` as well as from the
        registry."""
        config = dict(config)
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key] = deserialize_layer(config[key], custom_objects)
        return cls(**config)


def _strip(name, prefix):
    return name.removeprefix(prefix)
