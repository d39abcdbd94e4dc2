"""keras.Sequential: a plain stack of layers, one input and one output."""

from webkeras.layers.input_layer import InputLayer
from webkeras.layers.keras_tensor import KerasTensor
from webkeras.layers.layer import Layer
from webkeras.layers.serialization import deserialize_layer, serialize_layer
from webkeras.models.model import Model


class Sequential(Model):
    """Example:
    ```python
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ```
    Without an `Input` (or `input_shape=` on the first layer) it is built on its first call.
    Once built, its layers form a functional graph from an `InputLayer`, so `model.inputs`,
    `layer.output` and `keras.Model(model.inputs, [l.output for l in model.layers])` work.
    """

    _config_module = "keras"

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._layers = []
        # Names in use, so adding a layer checks for a duplicate in constant time.
        self._layer_names = set()
        self._input_batch_shape = None
        self._input_dtype = "float32"
        # The graph: an InputLayer's output, then each layer's output in `_layers` order (a
        # prefix of them while a build is incomplete). Only tensors are kept, so the weights
        # file walker (which follows Layer attributes) does not see the InputLayer.
        self._input_tensor = None
        self._layer_outputs = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history.operation
        if not isinstance(layer, Layer):
            raise ValueError(  # noqa: TRY004
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer)})")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_batch_shape is not None:
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use "
                    f"input shape {self._input_batch_shape}. You cannot add a different Input "
                    f"layer to it.")
            self._input_batch_shape = layer.batch_shape
            self._input_dtype = layer.dtype
            self._input_tensor = layer.output
            return
        if layer.name in self._layer_names:
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f'"{layer.name}" is already the name of a layer in this model. Update the '
                "`name` argument to pass a unique name.")
        if not self._layers and self._input_batch_shape is None:
            self._input_batch_shape = layer._batch_input_shape or _model_input_shape(layer)
        self._layers.append(layer)
        self._layer_names.add(layer.name)
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._layer_names.discard(layer.name)
        del self._layer_outputs[len(self._layers):]
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    @property
    def layers(self):
        return list(self._layers)

    def _sublayers(self):
        return list(self._layers)

    def _maybe_rebuild(self):
        if self._input_batch_shape is not None and self._layers:
            self.build(self._input_batch_shape)

    def build(self, input_shape=None):
        if input_shape is None:
            input_shape = self._input_batch_shape
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = tuple(input_shape)
        self._input_batch_shape = shape
        if self._input_tensor is None or self._input_tensor.shape != shape:
            self._input_tensor = InputLayer(batch_shape=shape, dtype=self._input_dtype).output
            self._layer_outputs = []
        # Layers already in the graph keep their outputs: `add` calls only the new layer.
        x = self._layer_outputs[-1] if self._layer_outputs else self._input_tensor
        for layer in self._layers[len(self._layer_outputs):]:
            x = layer(x)
            self._layer_outputs.append(x)
        self._output_shape = x.shape
        self._build_shapes = shape
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._layers:
            kwargs = {"training": training} if training is not None else {}
            x = layer(x, **kwargs)
        return x

    def __call__(self, inputs=None, *args, **kwargs):
        if not self.built:
            shape = tuple(inputs.shape)
            self.build((None,) + shape[1:])
        return super().__call__(inputs, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        x = KerasTensor(tuple(input_shape), self._input_dtype)
        for layer in self._layers:
            x = layer.compute_output_shape(x.shape)
            x = KerasTensor(x)
        return x.shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet.")
        return self._output_shape

    @property
    def input_shape(self):
        return self._input_batch_shape

    @property
    def inputs(self):
        return None if self._input_tensor is None else [self._input_tensor]

    @property
    def outputs(self):
        if not self.built or not self._layer_outputs:
            return None
        return [self._layer_outputs[-1]]

    # tf.keras 2: `model.input` / `model.output` are the graph's (Keras 3 has them only once
    # the model is itself called on a symbolic input, which comes first here).
    @property
    def input(self):
        if self._inbound_nodes or self.inputs is None:
            return Layer.input.fget(self)
        return self.inputs[0]

    @property
    def output(self):
        if self._inbound_nodes or self.outputs is None:
            return Layer.output.fget(self)
        return self.outputs[0]

    # tf.keras 2 (before 2.6) had these on Sequential; old tutorials still call them.
    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: argmax of `predict`, or `probability > 0.5` for one output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        """`predict` (the model's outputs are taken as probabilities)."""
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def get_config(self):
        layer_configs = []
        if self._input_batch_shape is not None:
            layer_configs.append({
                "module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_shape": self._input_batch_shape, "dtype": self._input_dtype,
                           "sparse": False, "name": "input_layer"},
                "registered_name": None})
        layer_configs += [serialize_layer(layer) for layer in self._layers]
        config = {"name": self.name, "trainable": self.trainable, "layers": layer_configs}
        if self._input_batch_shape is not None:
            config["build_input_shape"] = self._input_batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                inner = entry["config"]
                shape = inner.get("batch_shape") or inner.get("batch_input_shape")
                model._input_batch_shape = tuple(shape)
                model._input_dtype = inner.get("dtype", "float32")
                continue
            model.add(deserialize_layer(entry, custom_objects), rebuild=False)
        if model._input_batch_shape is None and config.get("build_input_shape"):
            model._input_batch_shape = tuple(config["build_input_shape"])
        model._maybe_rebuild()
        return model


def _model_input_shape(layer):
    """A model with one input, first in a Sequential, gives it its input shape (Keras 3's
    `Sequential([base_model, Dense(...)])` is built at once)."""
    inputs = getattr(layer, "inputs", None) if isinstance(layer, Model) else None
    if inputs and len(inputs) == 1:
        return tuple(inputs[0].shape)
    return None
