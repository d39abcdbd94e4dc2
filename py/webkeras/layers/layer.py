"""The Layer base class: config, weights, build-on-first-call, sub-layer tracking."""

import math

import numpy as np

from webkeras import initializers, ops
from webkeras.backend import Tensor, Variable
from webkeras.layers.keras_tensor import KerasTensor, symbolic_call
from webkeras.utils import naming, tree


class Layer:
    """Base class of every layer and model (`keras.layers.Layer`).

    Subclasses store their config in `__init__`, create weights in `build(input_shape)` with
    `add_weight`, and compute in `call(inputs)` with `keras.ops` only.
    """

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        object.__setattr__(self, "_tracked", [])
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape else None
        self.name = name or naming.uniquify(naming.to_snake_case(type(self).__name__))
        self._trainable = trainable
        self.built = False
        self._own_variables = []
        self._own_losses = []
        self.dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))
        self.supports_masking = False
        self._build_shapes = None

    # -- tracking ----------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if not name.startswith("_") and _contains_trackable(value):
            self._tracked.append(name)
        object.__setattr__(self, name, value)

    def _sublayers(self):
        return _unique(item for attr in self._tracked
                       for item in tree.flatten(getattr(self, attr, None))
                       if isinstance(item, Layer))

    def _flatten_layers(self, include_self=True):
        layers = [self] if include_self else []
        return _unique(layers + [sub for layer in self._sublayers()
                                 for sub in layer._flatten_layers()])

    def _layer_variables(self):
        """This layer's own variables: from add_weight, then any set as attributes."""
        attributes = (item for attr in self._tracked
                      for item in tree.flatten(getattr(self, attr, None))
                      if isinstance(item, Variable))
        return _unique(list(self._own_variables) + list(attributes))

    # -- weights -----------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, **kwargs):
        shape = tuple(int(d) for d in (shape or ()))
        if initializer is None:
            initializer = "glorot_uniform" if dtype is None or "float" in str(dtype) else "zeros"
        variable = Variable(initializers.get(initializer), shape=shape,
                            dtype=dtype or self.dtype, trainable=trainable, name=name)
        variable.path = f"{self.name}/{variable.name}"
        variable.regularizer = regularizer
        variable.constraint = constraint
        self._own_variables.append(variable)
        return variable

    add_variable = add_weight

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def variables(self):
        return _unique(v for layer in self._flatten_layers() for v in layer._layer_variables())

    weights = variables

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return _unique(v for layer in self._flatten_layers() if layer.trainable
                       for v in layer._layer_variables() if v.trainable)

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self):
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.variables if id(v) not in trainable]

    non_trainable_weights = non_trainable_variables

    def get_weights(self):
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(
                f"Layer {self.name} expects {len(variables)} weights, but the weight list "
                f"received has {len(weights)} elements."
            )
        for variable, value in zip(variables, weights):
            value = np.asarray(value)
            if tuple(value.shape) != variable.shape:
                raise ValueError(
                    f"Layer {self.name} weight '{variable.path}' has shape {variable.shape}, "
                    f"received a value of shape {value.shape}."
                )
            variable.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(math.prod(v.shape) for v in self.weights))

    @property
    def losses(self):
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._own_losses)
            for v in layer._own_variables:
                if getattr(v, "regularizer", None) is not None and v.trainable:
                    out.append(v.regularizer(v))
        return out

    def add_loss(self, loss):
        self._own_losses.append(loss)

    # -- calling -----------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        if any(isinstance(x, KerasTensor) for x in tree.flatten(inputs)):
            return symbolic_call(self, inputs, *args, **kwargs)
        inputs = tree.map_structure(_to_tensor, inputs)
        self._maybe_build(tree.map_structure(lambda x: x.shape, inputs))
        self._own_losses = []
        return self.call(inputs, *args, **kwargs)

    def _maybe_build(self, input_shapes):
        if not self.built:
            self._build_shapes = input_shapes
            self.build(input_shapes)
            self.built = True

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def _contains_trackable(value):
    if isinstance(value, (Layer, Variable)):
        return True
    if isinstance(value, (list, tuple, dict)):
        return any(isinstance(v, (Layer, Variable)) for v in tree.flatten(value))
    return False


def _to_tensor(x):
    if isinstance(x, Tensor):
        return x
    x = np.asarray(x)
    return ops.convert_to_tensor(x.astype(np.float32) if x.dtype == np.float64 else x)
