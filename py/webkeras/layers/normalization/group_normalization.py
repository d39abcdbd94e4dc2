"""GroupNormalization: normalizes each sample over groups of channels (and all other axes)."""

from webkeras import constraints, initializers, ops, regularizers
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer


class GroupNormalization(Layer):
    """Group normalization (Wu & He, 2018).

    The channels along `axis` are split into `groups` groups; each sample is normalized by
    the mean and variance of each group over every non-batch axis. `groups=1` is close to
    LayerNormalization; `groups=-1` (one group per channel) is instance normalization.

    Args:
        groups: number of groups; must divide the size of `axis`. `-1` means one group per
            channel. Defaults to 32.
        axis: integer, the channels axis. Defaults to -1.
        epsilon: small float added to the variance. Defaults to 1e-3.
        center: if True, add the learned offset `beta`.
        scale: if True, multiply by the learned `gamma`.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the `beta` and `gamma` weights.

    Input shape: any rank >= 2. Output shape: the same as the input.

    Example:

    >>> x = np.random.rand(2, 4, 4, 8).astype("float32")
    >>> keras.layers.GroupNormalization(groups=4)(x).shape
    (2, 4, 4, 8)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError("GroupNormalization normalizes along one channels axis: `axis` "
                             f"should be an integer. Received: axis={axis!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or \
                (groups < 1 and groups != -1):
            raise ValueError("`groups` should be a positive integer or -1 (one group per "
                             f"channel). Received: groups={groups!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank < self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"GroupNormalization: axis {self.axis} should be a non-batch axis "
                             f"of the input. Received input with shape {tuple(input_shape)}.")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the "
                f"layer received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        # Keras 3's wording for both checks.
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the "
                             f"number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the "
                             f"number of channels ({dim}).")
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self.gamma = self.add_weight((dim,), self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def call(self, inputs):
        axis = self.axis % inputs.ndim
        shape = tuple(inputs.shape)
        # (..., channels, ...) -> (..., groups, channels // groups, ...)
        grouped_shape = (-1,) + shape[1:axis] + (self.groups, shape[axis] // self.groups) \
            + shape[axis + 1:]
        grouped = ops.reshape(inputs, grouped_shape)
        reduction_axes = tuple(a for a in range(1, len(grouped_shape)) if a != axis)
        mean, variance = ops.moments(grouped, axes=reduction_axes, keepdims=True)
        inv = ops.reciprocal(ops.sqrt(variance + self.epsilon))
        parameter_shape = [1] * len(grouped_shape)
        parameter_shape[axis:axis + 2] = grouped_shape[axis:axis + 2]
        if self.gamma is not None:
            inv = inv * ops.reshape(self.gamma, parameter_shape)
        outputs = (grouped - mean) * inv
        if self.beta is not None:
            outputs = outputs + ops.reshape(self.beta, parameter_shape)
        return ops.reshape(outputs, (-1,) + shape[1:])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
