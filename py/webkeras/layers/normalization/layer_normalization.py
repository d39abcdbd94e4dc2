"""LayerNormalization: normalizes each sample over `axis` (the features by default)."""

from webkeras import constraints, initializers, ops, regularizers
from webkeras.layers.layer import Layer


class LayerNormalization(Layer):
    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale, self.rms_scaling = center, scale, rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = tuple(sorted(a % rank for a in axes))
        shape = tuple(input_shape[a] for a in self._axes)
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def _broadcast(self, v, rank, input_shape):
        return ops.reshape(v, tuple(input_shape[i] if i in self._axes else 1
                                    for i in range(rank)))

    def call(self, inputs):
        rank = inputs.ndim
        if self.rms_scaling:
            variance = ops.mean(ops.square(inputs), axis=self._axes, keepdims=True)
            outputs = inputs * ops.reciprocal(ops.sqrt(variance + self.epsilon))
            return outputs * self._broadcast(self.gamma, rank, inputs.shape)
        mean = ops.mean(inputs, axis=self._axes, keepdims=True)
        variance = ops.mean(ops.square(inputs - mean), axis=self._axes, keepdims=True)
        inv = ops.reciprocal(ops.sqrt(variance + self.epsilon))
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma, rank, inputs.shape)
        outputs = (inputs - mean) * inv
        if self.beta is not None:
            outputs = outputs + self._broadcast(self.beta, rank, inputs.shape)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
