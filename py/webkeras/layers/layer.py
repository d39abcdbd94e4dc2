"""The Layer base class: config, weights, build-on-first-call, sub-layer tracking."""

import functools
import math

import numpy as np

from webkeras import constraints, initializers, regularizers
from webkeras.layers.call_utils import (
    broadcast_mask,
    call_params,
    first_param,
    placeholder_input,
    placeholder_mask,
    shape_tuples,
    to_tensor,
    unique,
)
from webkeras.layers.input_spec import assert_input_compatibility
from webkeras.layers.keras_tensor import (
    KerasTensor,
    infer_output_shapes,
    symbolic_call,
    symbolic_scope,
)
from webkeras.layers.node_properties import NodeProperties
from webkeras.layers.saving_hooks import SavingHooks
from webkeras.layers.weight_arguments import positional_weight_arguments
from webkeras.ops.tensor import Tensor, Variable, get_mask, set_mask
from webkeras.utils import naming, tree

# The `training` value of the outermost call, seen by nested layers called without one.
_training_context = []
# How deep the current layer call is nested: 0 outside any call (a new forward pass).
_call_depth = [0]
# Whether any layer ever added a loss / an `add_metric` value: until then, nothing needs
# clearing (or reporting), so plain models skip those walks of their layers.
_values_added = [False]
_metric_values_added = [False]


def metric_values_added():
    return _metric_values_added[0]


class Layer(SavingHooks, NodeProperties):
    """Base class of every layer and model (`keras.layers.Layer`).

    Subclasses store their config in `__init__`, create weights in `build(input_shape)` with
    `add_weight`, and compute in `call(inputs)` with `keras.ops` only.
    """

    # The "module" Keras 3 writes in a layer's config (models write their own).
    _config_module = "keras.layers"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            cls.build = _marking_built(build)

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        kwargs.pop("autocast", None)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        if "_tracked" not in self.__dict__:
            object.__setattr__(self, "_tracked", [])
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape else None
        self.name = name or naming.uniquify(naming.to_snake_case(type(self).__name__))
        self._trainable = trainable
        self.built = False
        self._own_variables = []
        self._own_losses = []
        self._own_metric_values = []
        self.dtype = "float32" if dtype is None else str(getattr(dtype, "name", dtype))
        self.supports_masking = False
        self._build_shapes = None
        self.input_spec = None
        self._inbound_nodes = []
        self.activity_regularizer = regularizers.get(activity_regularizer)

    # -- tracking ----------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_tracked" not in self.__dict__:
            object.__setattr__(self, "_tracked", [])
        # Containers are tracked even while empty: layers are often appended later.
        if (not name.startswith("_") and name not in self._tracked
                and (_contains_trackable(value) or isinstance(value, (list, dict)))):
            self._tracked.append(name)
        # A Variable set as an attribute takes its place among the layer's variables when it is
        # set, as Keras 3 tracks it (one made in __init__ comes before build's weights).
        if isinstance(value, Variable) and "_own_variables" in self.__dict__:
            self._own_variables.append(value)
        object.__setattr__(self, name, value)

    def _sublayers(self):
        return unique(item for attr in self._tracked
                       for item in tree.flatten(getattr(self, attr, None))
                       if isinstance(item, Layer))

    def _flatten_layers(self, include_self=True):
        """This layer and every layer under it, each once, depth-first in tracking order."""
        layers, seen, pending = [], set(), [iter((self,))]
        # Iterative: it runs a few times per train step, and deep models must not recurse.
        while pending:
            layer = next(pending[-1], None)
            if layer is None:
                pending.pop()
            elif id(layer) not in seen:
                seen.add(id(layer))
                layers.append(layer)
                pending.append(iter(layer._sublayers()))
        return layers if include_self else layers[1:]

    def _layer_variables(self):
        """This layer's own variables: from add_weight, then any set as attributes."""
        attributes = (item for attr in self._tracked
                      for item in tree.flatten(getattr(self, attr, None))
                      if isinstance(item, Variable))
        return unique(list(self._own_variables) + list(attributes))

    # -- weights -----------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, **kwargs):
        """Creates a weight of this layer (`build` is the usual place).

        Positional arguments are Keras 3's `(shape, initializer, dtype)`, or, when the first is
        a string, tf.keras 2's `(name, shape, dtype, initializer, regularizer, trainable,
        constraint)`, as in `self.add_variable("kernel", shape=[n, m])`.
        """
        if args:
            given = positional_weight_arguments(args, self.name, {
                "shape": shape, "initializer": initializer, "dtype": dtype,
                "trainable": trainable, "regularizer": regularizer, "constraint": constraint,
                "name": name})
            shape, initializer, dtype = given["shape"], given["initializer"], given["dtype"]
            trainable, regularizer = given["trainable"], given["regularizer"]
            constraint, name = given["constraint"], given["name"]
        shape = tuple(int(d) for d in (shape or ()))
        if trainable is None:
            trainable = True
        if initializer is None:
            initializer = "glorot_uniform" if dtype is None or "float" in str(dtype) else "zeros"
        variable = Variable(initializers.get(initializer), shape=shape,
                            dtype=dtype or self.dtype, trainable=trainable, name=name,
                            parent_path=self.name)
        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        self._own_variables.append(variable)
        return variable

    def add_variable(self, *args, **kwargs):
        """Alias of `add_weight` (Keras 3), also in tf.keras 2's `add_variable(name, shape)`."""
        return self.add_weight(*args, **kwargs)

    @property
    def compute_dtype(self):
        # One dtype per layer (no mixed-precision policies): Keras 3's compute and variable
        # dtypes are both the layer's `dtype` then, and custom layers cast with these names.
        return self.dtype

    @property
    def variable_dtype(self):
        return self.dtype

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def variables(self):
        return unique(v for layer in self._flatten_layers() for v in layer._layer_variables())

    weights = variables

    @property
    def trainable_variables(self):
        if not self.trainable:
            return []
        return unique(v for layer in self._flatten_layers() if layer.trainable
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
        """Scalar losses: from `add_loss` (this layer's, then its sublayers') in the last
        forward pass, then the weight regularization penalties (Keras 3's order)."""
        out, penalties, seen = [], [], set()
        for layer in self._flatten_layers():
            out.extend(layer._own_losses)
            out.extend(fn() for fn in layer.__dict__.get("_callable_losses", ()))
            # The penalties of `trainable_variables` (only add_weight gives a variable a
            # regularizer), without a second walk of the layers.
            if not (self.trainable and layer.trainable):
                continue
            for v in layer._own_variables:
                if v.trainable and v.regularizer is not None and id(v) not in seen:
                    seen.add(id(v))
                    penalties.append(v.regularizer(v))
        return out + penalties

    def add_loss(self, loss):
        """Adds a scalar loss (or a list of them) during `call`; the model's training loss
        includes it. Losses are cleared at the start of each top-level call.

        Example:
        ```python
        class ActivityRegularizationLayer(keras.layers.Layer):
            def call(self, inputs):
                self.add_loss(1e-2 * keras.ops.sum(inputs))
                return inputs
        ```
        A zero-argument callable (tf.keras 2) is kept and evaluated whenever `losses` is read.
        """
        for value in tree.flatten(loss):
            if callable(value) and not isinstance(value, Tensor):
                self.__dict__.setdefault("_callable_losses", []).append(value)
            elif isinstance(value, KerasTensor):
                raise ValueError(  # noqa: TRY004 - Keras raises ValueError here
                    f"`add_loss()` on '{self.name}' received a symbolic tensor {value}. Add "
                    "the loss inside a layer's `call()` (on real tensors), e.g. a layer that "
                    "calls `self.add_loss(...)` and returns its inputs.")
            else:
                self._own_losses.append(to_tensor(value))
                _values_added[0] = True

    def add_metric(self, value, name=None, aggregation="mean"):
        """tf.keras 2 (dropped in Keras 3): reports `value` in the fit / evaluate logs as
        `name`, averaged over the epoch, e.g.
        `self.add_metric(keras.ops.std(inputs), name="std_of_activation")` in `call`."""
        if not name:
            raise ValueError(f"`add_metric()` on layer '{self.name}' needs a `name`.")
        if aggregation not in (None, "mean"):
            raise ValueError(f"`add_metric()` supports aggregation='mean' only, received "
                             f"aggregation={aggregation!r}.")
        self._own_metric_values.append((name, to_tensor(value)))
        _values_added[0] = _metric_values_added[0] = True

    def _clear_losses(self):
        """Forgets the losses and `add_metric` values of the last forward pass."""
        if not _values_added[0]:
            return  # Nothing was ever added: no walk of the layers on every call.
        for layer in self._flatten_layers():
            layer._own_losses = []
            layer._own_metric_values = []

    # -- calling -----------------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, *args, **kwargs):
        if args:
            inputs, args = args[0], args[1:]
        else:
            # `layer(inputs=x)` or `mha(query=q, value=v)`: the first argument of `call`.
            first = first_param(type(self).call)
            if first not in kwargs:
                raise TypeError(f"Layer '{self.name}' was called without inputs: pass them "
                                f"positionally or as `{first}=`.")
            inputs = kwargs.pop(first)
        params = call_params(type(self).call)
        if "training" in kwargs and "training" not in params and "**" not in params:
            kwargs.pop("training")
        elif "training" in params and kwargs.get("training") is None and _training_context:
            kwargs["training"] = _training_context[-1]
        auto_mask = None
        if "mask" in params and kwargs.get("mask") is None:
            mask = tree.map_structure(get_mask, inputs)
            if any(m is not None for m in tree.flatten(mask)):
                kwargs["mask"] = auto_mask = mask
        assert_input_compatibility(self.input_spec, inputs, self.name)
        if any(isinstance(x, KerasTensor) for x in tree.flatten(inputs)):
            _call_depth[0] += 1
            try:
                with symbolic_scope():
                    return self._symbolic_call(inputs, args, kwargs, auto_mask)
            finally:
                _call_depth[0] -= 1
                # The shape inference ran `call` on placeholder zeros: drop its losses.
                self._clear_losses()
        inputs = tree.map_structure(to_tensor, inputs)
        self._maybe_build(tree.map_structure(lambda x: x.shape, inputs))
        # As Keras 3: the outermost call starts a forward pass and clears every loss below
        # it; nested calls add to them (a shared layer called twice keeps both).
        if _call_depth[0] == 0:
            self._clear_losses()
        training = kwargs.get("training")
        if training is not None:
            _training_context.append(bool(training))
        _call_depth[0] += 1
        try:
            outputs = self.call(inputs, *args, **kwargs)
        finally:
            _call_depth[0] -= 1
            if training is not None:
                _training_context.pop()
        if self.activity_regularizer is not None:
            for out in tree.flatten(outputs):
                if not isinstance(out, Tensor):
                    continue
                # Keras 3 divides by the batch size, so the strength does not depend on it.
                batch = float(max(out.shape[0], 1)) if out.ndim else 1.0
                self._own_losses.append(self.activity_regularizer(out) / batch)
                _values_added[0] = True
        out_mask = self.compute_mask(inputs, self._previous_mask(inputs, kwargs))
        if out_mask is not None:
            for out, m in zip(tree.flatten(outputs), broadcast_mask(out_mask, outputs)):
                if m is not None and isinstance(out, Tensor):
                    set_mask(out, m)
        return outputs

    def _symbolic_call(self, inputs, args, kwargs, auto_mask):
        """A call on KerasTensors: records the node and gives the outputs their masks."""
        if auto_mask is not None:
            # The shape inference sees an all-True mask of the placeholder inputs' sizes; the
            # node does not keep it, as the real mask comes with the real inputs.
            kwargs["mask"] = auto_mask
        outputs = symbolic_call(self, inputs, *args, **kwargs)
        if auto_mask is not None:
            self._inbound_nodes[-1].arguments[1].pop("mask", None)
        in_mask = self._previous_mask(inputs, {})
        if _overrides(self, "compute_mask") or (self.supports_masking and in_mask is not None):
            from webkeras.ops.tape import stop_recording

            with stop_recording():
                out_mask = self.compute_mask(tree.map_structure(placeholder_input, inputs),
                                             tree.map_structure(placeholder_mask, in_mask))
            if out_mask is not None:
                for out, m in zip(tree.flatten(outputs), broadcast_mask(out_mask, outputs)):
                    if m is not None:
                        # The output's leading dimensions, keeping its unknown (None) ones.
                        shape = out.shape[:m.ndim] if m.ndim <= len(out.shape) else m.shape
                        out._keras_mask = KerasTensor(shape, "bool")
        return outputs

    def _previous_mask(self, inputs, kwargs):
        """The `mask` passed to the call, else the masks riding on the inputs (Keras 3: a
        layer whose `call` takes no `mask` still passes its input's mask along)."""
        if kwargs.get("mask") is not None:
            return kwargs["mask"]
        if not (self.supports_masking or _overrides(self, "compute_mask")):
            return None
        mask = tree.map_structure(get_mask, inputs)
        return mask if any(m is not None for m in tree.flatten(mask)) else None

    def compute_mask(self, inputs, previous_mask):
        """The mask of this layer's output; by default, passed through when masking is on."""
        return previous_mask if self.supports_masking else None

    def _maybe_build(self, input_shapes):
        if not self.built:
            self._build_shapes = input_shapes
            if _overrides(self, "build"):
                self.build(input_shapes)
            self.built = True

    def compute_output_shape(self, input_shape):
        """By default, runs `call` once on zeros and reads the output shapes back."""
        with symbolic_scope():
            shapes = infer_output_shapes(self, input_shape)
        self._clear_losses()
        return shapes

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        """The dict saving stores so that `build_from_config` can create the layer's weights
        before they are loaded: by default the input shape it was built with (None if not
        built). Override both to build from something else."""
        if self.built and self._build_shapes is not None:
            return {"input_shape": self._build_shapes}
        return None

    def build_from_config(self, config):
        """Creates the weights from `get_build_config()`'s dict, as Keras 3: calls
        `build(config["input_shape"])` (or `build(**config["shapes_dict"])`)."""
        if not config:
            return
        if config.get("input_shape") is not None:
            self._maybe_build(shape_tuples(config["input_shape"]))
        elif config.get("shapes_dict"):
            shapes = {k: shape_tuples(v) for k, v in config["shapes_dict"].items()}
            self.build(**shapes)
            self.built = True

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marking_built(build):
    """As Keras 3: a layer built by calling `build(shape)` itself counts as built (so its
    first call does not build, and make its weights, again)."""

    @functools.wraps(build)
    def build_wrapper(self, *args, **kwargs):
        result = build(self, *args, **kwargs)
        if getattr(self, "_build_shapes", None) is None and args:
            self._build_shapes = args[0]
        self.built = True
        return result

    build_wrapper._marks_built = True
    return build_wrapper


def _overrides(layer, method):
    return getattr(type(layer), method) is not getattr(Layer, method)


def _contains_trackable(value):
    if isinstance(value, (Layer, Variable)):
        return True
    if isinstance(value, (list, tuple, dict)):
        return any(isinstance(v, (Layer, Variable)) for v in tree.flatten(value))
    return False
