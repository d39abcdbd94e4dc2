"""Symbolic tensors (`keras.Input`), the call nodes that link them, and shape inference."""

import numpy as np

from webkeras.utils import tree


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


def _concrete(x, batch):
    shape = tuple(batch if d is None else d for d in x.shape)
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
    tensor_args = any(isinstance(x, KerasTensor) for x in tree.flatten((args, kwargs)))
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


def _run_on_zeros(layer, inputs, *args, **kwargs):
    from webkeras.ops.tape import stop_recording

    def concrete(x):
        return _from_numpy(_concrete(x, 2)) if isinstance(x, KerasTensor) else x

    with stop_recording():
        result = layer.call(tree.map_structure(concrete, inputs),
                            *tree.map_structure(concrete, list(args)),
                            **{k: tree.map_structure(concrete, v) for k, v in kwargs.items()})
    return tree.map_structure(
        lambda t: KerasTensor((None,) + tuple(t.shape[1:]), t.dtype), result
    )


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
