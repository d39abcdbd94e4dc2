"""Add, Subtract, Multiply, Average, Maximum, Minimum (+ the functional add(), ...)."""

from webkeras import ops
from webkeras.layers.merging.base_merge import Merge


class Add(Merge):
    """Element-wise sum of a list of inputs of the same (broadcastable) shape."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(Merge):
    """`inputs[0] - inputs[1]`; exactly two inputs."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.multiply(out, x)
        return out


class Average(Merge):
    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out / float(len(inputs))


class Maximum(Merge):
    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(Merge):
    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


def add(inputs, **kwargs):
    """Functional interface to the `Add` layer: `keras.layers.add([x1, x2])`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)
