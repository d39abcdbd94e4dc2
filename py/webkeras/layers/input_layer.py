"""keras.Input and InputLayer."""

from webkeras.layers.keras_tensor import KerasTensor, Node
from webkeras.layers.layer import Layer


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 sparse=None, input_tensor=None, optional=False, **kwargs):
        legacy_shape = kwargs.pop("input_shape", None)
        batch_shape = batch_shape or kwargs.pop("batch_input_shape", None)
        shape = shape if shape is not None else legacy_shape
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        self.optional = optional
        output = KerasTensor(self.batch_shape, self.dtype, name=self.name)
        Node(self, outputs=output)
        self.output = output
        self.built = True

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input: `keras.Input(shape=(28, 28))`."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                      batch_shape=batch_shape, name=name, optional=optional).output
