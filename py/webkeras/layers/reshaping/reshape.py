"""Reshape, Permute, RepeatVector: shape changes that leave the batch axis alone."""

import math

from webkeras import ops
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer


class Reshape(Layer):
    """Reshapes inputs to `(batch_size,) + target_shape`; one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape[1:])

    def _resolve(self, input_shape):
        target = list(self.target_shape)
        if -1 not in target:
            return tuple(target)
        if any(d is None for d in input_shape):
            return tuple(None if d == -1 else d for d in target)
        size, known = math.prod(input_shape), math.prod(d for d in target if d != -1)
        if known == 0 or size % known:
            raise ValueError(
                "The total size of the tensor must be unchanged. Received: "
                f"input_shape={tuple(input_shape)}, target_shape={self.target_shape}")
        return tuple(size // known if d == -1 else d for d in target)

    def build(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape and None not in rest and \
                math.prod(rest) != math.prod(self.target_shape):
            raise ValueError(
                "The total size of the tensor must be unchanged. Received: "
                f"input_shape={tuple(rest)}, target_shape={self.target_shape}")

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes; `dims` counts from 1, e.g. `Permute((2, 1))`."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices "
                f"in `dims` must be consecutive and start from 1. Received dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}
