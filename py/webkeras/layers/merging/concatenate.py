"""Concatenate (+ functional concatenate()): joins a list of inputs along one axis."""

from webkeras import ops
from webkeras.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """All shapes must match except along `axis` (default -1, the features)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank
        for shape in shapes[1:]:
            if len(shape) != rank or any(
                    a != b and None not in (a, b)
                    for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis):
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except for "
                    f"the concatenation axis. Received: input_shape={shapes}")
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to `Concatenate`: `keras.layers.concatenate([a, b])`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
