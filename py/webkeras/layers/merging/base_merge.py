"""Merge: the base of the element-wise merge layers (Add, Multiply, ...), with Keras's
broadcasting rules and error messages."""

from webkeras import ops
from webkeras.layers.layer import Layer


class Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. "  # noqa: TRY004
                             f"Received: inputs={inputs} (not a list of tensors)")
        if len(inputs) < 1:
            raise ValueError("A merge layer should be called on a list of at least 1 input. "
                             f"Got {len(inputs)} inputs. Full input_shape received: {inputs}")

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape} (not a list of shapes)")
        self.compute_output_shape(input_shape)

    def _elementwise_shape(self, shape1, shape2):
        if None in (shape1, shape2):
            return None
        if len(shape1) < len(shape2):
            return self._elementwise_shape(shape2, shape1)
        if not shape2:
            return shape1
        out = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1:
                out.append(j)
            elif j == 1:
                out.append(i)
            elif i != j:
                raise ValueError("Inputs have incompatible shapes. Received shapes "
                                 f"{shape1} and {shape2}")
            else:
                out.append(i)
        return tuple(out)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0][1:])
        for other in input_shape[1:]:
            shape = self._elementwise_shape(shape, tuple(other[1:]))
        batches = {s[0] for s in input_shape if s[0] is not None}
        batch = batches.pop() if len(batches) == 1 else None
        return (batch,) + tuple(shape)

    def call(self, inputs):
        self._check_inputs(inputs)
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        return self._merge_function(list(inputs))

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        out = masks[0]
        for m in masks[1:]:
            out = ops.logical_and(out, m) if hasattr(ops, "logical_and") else \
                ops.cast(ops.cast(out, "float32") * ops.cast(m, "float32"), "bool")
        return out
