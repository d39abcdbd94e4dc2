"""Dot: batched dot products between the samples of two inputs."""

from webkeras import ops
from webkeras.layers.merging.base_merge import Merge


def _l2_normalize(x, axis):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))


def batch_dot(x, y, axes):
    """Contract axis axes[0] of x with axes[1] of y, sample by sample (axis 0 is the batch)."""
    ax, ay = axes
    x = ops.moveaxis(x, ax, -1)
    y = ops.moveaxis(y, ay, 1)
    x_rest, y_rest = x.shape[1:-1], y.shape[2:]
    batch, k = x.shape[0], x.shape[-1]
    out = ops.matmul(ops.reshape(x, (batch, -1, k)), ops.reshape(y, (batch, k, -1)))
    shape = (batch,) + tuple(x_rest) + tuple(y_rest)
    return ops.reshape(out, shape if len(shape) > 1 else (batch, 1))


class Dot(Merge):
    """Example: `keras.layers.Dot(axes=1)([x, y])` gives `(batch, 1)` for 2D inputs."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and (not isinstance(axes, (list, tuple)) or
                                          len(axes) != 2):
            raise ValueError("Invalid format for argument `axes`: expected an int or a list/"
                             f"tuple of 2 ints. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, shape1, shape2):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return tuple(a % len(s) if a < 0 else a for a, s in zip(axes, (shape1, shape2)))

    def build(self, input_shape):
        if not isinstance(input_shape[0], (list, tuple)) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        shape1, shape2 = (tuple(s) for s in input_shape)
        a1, a2 = self._axes(shape1, shape2)
        if shape1[a1] is not None and shape2[a2] is not None and shape1[a1] != shape2[a2]:
            raise ValueError(
                "Incompatible input shapes: "
                f"axis values {shape1[a1]} (at axis {a1}) != {shape2[a2]} (at axis {a2}). "
                f"Full input shapes: {shape1}, {shape2}")
        rest = [d for i, d in enumerate(shape1) if i not in (0, a1)] + \
            [d for i, d in enumerate(shape2) if i not in (0, a2)]
        return (shape1[0],) + tuple(rest if rest else [1])

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        x, y = inputs
        a1, a2 = self._axes(x.shape, y.shape)
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        return batch_dot(x, y, (a1, a2))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes=axes, **kwargs)(inputs)
