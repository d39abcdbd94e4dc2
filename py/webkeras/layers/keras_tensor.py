"""Symbolic tensors (`keras.Input`) and shape inference for layer calls on them."""

import numpy as np

from webkeras.utils import tree


class KerasTensor:
    """A shape/dtype placeholder; `_keras_history` = (layer, inputs, outputs) of its call."""

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = history

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def _shape_of(x):
    return x.shape


def _concrete(x, batch):
    shape = tuple(batch if d is None else d for d in x.shape)
    return np.zeros(shape, dtype=x.dtype)


def symbolic_call(layer, inputs, *args, **kwargs):
    """Infer the output of `layer(inputs)` for KerasTensor inputs.

    Uses the layer's `compute_output_shape` when it has one; otherwise runs the layer once on
    zeros (batch size 2) and reads the output shapes, as Keras's compute_output_spec does.
    """
    input_shapes = tree.map_structure(_shape_of, inputs)
    layer._maybe_build(input_shapes)
    try:
        output_shapes = layer.compute_output_shape(input_shapes)
        outputs = _placeholders(output_shapes, layer.dtype)
    except NotImplementedError:
        concrete = tree.map_structure(lambda x: _concrete(x, 2), inputs)
        result = layer.call(tree.map_structure(_from_numpy, concrete), *args, **kwargs)
        outputs = tree.map_structure(
            lambda t: KerasTensor((None,) + tuple(t.shape[1:]), t.dtype), result
        )
    for out in tree.flatten(outputs):
        out._keras_history = (layer, inputs, outputs)
    return outputs


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
