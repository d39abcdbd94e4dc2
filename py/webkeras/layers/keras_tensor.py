"""Symbolic tensors (`keras.Input`), the call nodes that link them, and shape inference."""

import contextlib

import numpy as np

from webkeras.utils import tree

# How many shape inferences (runs on placeholder zeros) are under way.
_symbolic_depth = [0]


@contextlib.contextmanager
def symbolic_scope():
    """Marks a run on placeholder zeros: its losses are dropped and stateful layers (RNNs)
    neither read nor keep state in it."""
    _symbolic_depth[0] += 1
    try:
        yield
    finally:
        _symbolic_depth[0] -= 1


def in_symbolic_scope():
    return _symbolic_depth[0] > 0


class KerasHistory(tuple):
    """(operation, node_index, tensor_index), as Keras's `_keras_history`."""

    __slots__ = ()

    def __new__(cls, operation, node_index, tensor_index):
        return super().__new__(cls, (operation, node_index, tensor_index))

    operation = property(lambda self: self[0])
    node_index = property(lambda self: self[1])
    tensor_index = property(lambda self: self[2])


class Node:
    """One symbolic call of a layer: its arguments (holding KerasTensors) and outputs."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.arguments = (tuple(call_args), dict(call_kwargs or {}))
        self.outputs = outputs
        self.is_input = not call_args and not call_kwargs
        self.node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, out in enumerate(tree.flatten(outputs)):
            out._keras_history = KerasHistory(operation, self.node_index, i)

    @property
    def input_tensors(self):
        return [x for x in tree.flatten(self.arguments) if isinstance(x, KerasTensor)]

    @property
    def output_tensors(self):
        return tree.flatten(self.outputs)

    @property
    def call_inputs(self):
        """The first positional argument (the layer's `inputs`)."""
        return self.arguments[0][0] if self.arguments[0] else None

    @property
    def parent_nodes(self):
        parents = []
        for x in self.input_tensors:
            history = x._keras_history
            if history is not None:
                node = history.operation._inbound_nodes[history.node_index]
                if node not in parents:
                    parents.append(node)
        return parents


class KerasTensor:
    """A shape/dtype placeholder; `_keras_history` says which layer call produced it."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def _shape_of(x):
    return x.shape


def _concrete(x, batch, free=None):
    """Zeros for placeholder `x`: the batch axis gets `batch`, other unknown axes `free`."""
    free = batch if free is None else free
    shape = tuple((batch if i == 0 else free) if d is None else d for i, d in enumerate(x.shape))
    # A boolean placeholder is a mask: all True, as masked steps would divide by zero.
    if np.dtype(x.dtype) == np.bool_:
        return np.ones(shape, dtype=bool)
    return np.zeros(shape, dtype=x.dtype)


def symbolic_call(layer, inputs, *args, **kwargs):
    """Infer the output of `layer(inputs, *args, **kwargs)` for KerasTensor arguments and
    record the call as a Node.

    Uses the layer's `compute_output_shape` when it defines one (single-input calls);
    otherwise runs the layer once on zeros (batch size 2) and reads the output shapes, as
    Keras's compute_output_spec does.
    """
    from webkeras.layers.layer import Layer

    input_shapes = tree.map_structure(_shape_of, inputs)
    layer._maybe_build(input_shapes)
    # A symbolic `mask` does not change the output's shape.
    other_kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
    tensor_args = any(isinstance(x, KerasTensor) for x in tree.flatten((args, other_kwargs)))
    if type(layer).compute_output_shape is not Layer.compute_output_shape and not tensor_args:
        outputs = _placeholders(layer.compute_output_shape(input_shapes), layer.dtype)
    else:
        outputs = _run_on_zeros(layer, inputs, *args, **kwargs)
    Node(layer, (inputs,) + tuple(args), kwargs, outputs)
    return outputs


def infer_output_shapes(layer, input_shapes):
    """Output shape(s) of `layer` for `input_shapes`, by running it once on zeros."""
    inputs = _placeholders(input_shapes, "float32")
    outputs = _run_on_zeros(layer, inputs)
    return tree.map_structure(lambda t: t.shape, outputs)


# Sizes given to unknown non-batch axes (a sequence length, an image side) for the two
# placeholder runs; an output axis whose size differs between them is unknown (None).
# Large enough for a few valid-padded convolutions and poolings.
FREE_DIM_SIZES = (8, 9)


def _run_on_zeros(layer, inputs, *args, **kwargs):
    placeholders = [x for x in tree.flatten((inputs, args, kwargs))
                    if isinstance(x, KerasTensor)]
    if not any(d is None for x in placeholders for d in x.shape[1:]):
        result = _call_on_zeros(layer, None, inputs, args, kwargs)
        return tree.map_structure(
            lambda t: KerasTensor((None,) + tuple(t.shape[1:]), t.dtype), result)
    first = _call_on_zeros(layer, FREE_DIM_SIZES[0], inputs, args, kwargs)
    second = _call_on_zeros(layer, FREE_DIM_SIZES[1], inputs, args, kwargs)
    merged = [KerasTensor((None,) + tuple(x if x == y else None
                                          for x, y in zip(a.shape[1:], b.shape[1:])), a.dtype)
              for a, b in zip(tree.flatten(first), tree.flatten(second))]
    return tree.pack_sequence_as(first, merged)


def _call_on_zeros(layer, free, inputs, args, kwargs):
    from webkeras.ops.tape import stop_recording

    def concrete(x):
        return _from_numpy(_concrete(x, 2, free)) if isinstance(x, KerasTensor) else x

    with stop_recording():
        return layer.call(tree.map_structure(concrete, inputs),
                          *tree.map_structure(concrete, list(args)),
                          **{k: tree.map_structure(concrete, v) for k, v in kwargs.items()})


def _is_shape(x):
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, int) for d in x)


def _placeholders(shapes, dtype):
    """KerasTensors for one shape, or a list/dict of shapes."""
    if _is_shape(shapes):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, dict):
        return {key: _placeholders(s, dtype) for key, s in shapes.items()}
    return [_placeholders(s, dtype) for s in shapes]


def _from_numpy(x):
    from webkeras import ops

    return ops.convert_to_tensor(x)
