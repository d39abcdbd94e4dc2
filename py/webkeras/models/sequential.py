"""keras.Sequential: a plain stack of layers, one input and one output."""

from webkeras.layers.input_layer import InputLayer
from webkeras.layers.keras_tensor import KerasTensor
from webkeras.layers.layer import Layer
from webkeras.models.model import Model, _accepts_training


class Sequential(Model):
    """Example:
    ```python
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    ```
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._layers = []
        self._input_batch_shape = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self._input_batch_shape = layer.batch_shape
            self._input_layer = layer
            return self._maybe_build_from_input()
        if not self._layers and self._input_batch_shape is None and layer._batch_input_shape:
            self._input_batch_shape = layer._batch_input_shape
        self._layers.append(layer)
        self.built = False
        self._maybe_build_from_input()

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        return layer

    @property
    def layers(self):
        return list(self._layers)

    def _sublayers(self):
        return list(self._layers)

    def _maybe_build_from_input(self):
        if self._input_batch_shape is not None and self._layers:
            self.build(self._input_batch_shape)

    def build(self, input_shape=None):
        shape = tuple(input_shape)
        self._input_batch_shape = shape
        x = KerasTensor(shape)
        for layer in self._layers:
            x = layer(x)
        self._output_shape = x.shape
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._layers:
            kwargs = {"training": training} if _accepts_training(layer.call) else {}
            x = layer(x, **kwargs)
        return x

    def __call__(self, inputs, *args, **kwargs):
        if not self.built and not isinstance(inputs, KerasTensor):
            self.build((None,) + tuple(inputs.shape[1:]))
        return super().__call__(inputs, *args, **kwargs)

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet.")
        return self._output_shape

    @property
    def input_shape(self):
        return self._input_batch_shape

    def get_config(self):
        layer_configs = []
        if self._input_batch_shape is not None:
            layer_configs.append({"class_name": "InputLayer",
                                  "config": {"batch_shape": self._input_batch_shape,
                                             "dtype": "float32"}})
        layer_configs += [{"class_name": type(l).__name__, "config": l.get_config()}
                          for l in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs}
