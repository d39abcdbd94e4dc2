"""BatchNormalization: batch statistics in training, moving statistics at inference."""

from webkeras import constraints, initializers, ops, regularizers
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.layer import Layer
from webkeras.ops.tape import stop_recording


class BatchNormalization(Layer):
    """Normalizes over every axis but `axis`.

    In training (`training=True`, and only while the layer is trainable) it uses the batch's
    mean and variance and updates `moving_mean`/`moving_variance` (non-trainable weights):
    `moving = moving * momentum + batch * (1 - momentum)`. Otherwise it uses the moving ones.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.synchronized = synchronized
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        self._axis = self.axis % rank
        dim = input_shape[self._axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             f"dimension but the layer received an input with shape "
                             f"{tuple(input_shape)}.")
        self.input_spec = InputSpec(ndim=rank, axes={self._axis: dim})
        shape = (dim,)
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)

    def _broadcast(self, v, rank):
        return ops.reshape(v, tuple(-1 if i == self._axis else 1 for i in range(rank)))

    def call(self, inputs, training=None, mask=None):
        rank = inputs.ndim
        reduce_axes = tuple(i for i in range(rank) if i != self._axis)
        if training and self.trainable:
            if mask is not None:
                weights = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
                count = ops.sum(ops.broadcast_to(weights, inputs.shape), axis=reduce_axes,
                                keepdims=True)
                mean = ops.sum(inputs * weights, axis=reduce_axes, keepdims=True) / count
                variance = ops.sum(ops.square(inputs - mean) * weights, axis=reduce_axes,
                                   keepdims=True) / count
            else:
                mean = ops.mean(inputs, axis=reduce_axes, keepdims=True)
                variance = ops.mean(ops.square(inputs - mean), axis=reduce_axes, keepdims=True)
            with stop_recording():
                batch_mean = ops.stop_gradient(ops.reshape(mean, (-1,)))
                batch_var = ops.stop_gradient(ops.reshape(variance, (-1,)))
                m = self.momentum
                self.moving_mean.assign(self.moving_mean * m + ops.cast(batch_mean, "float32")
                                        * (1.0 - m))
                self.moving_variance.assign(self.moving_variance * m +
                                            ops.cast(batch_var, "float32") * (1.0 - m))
        else:
            mean = self._broadcast(self.moving_mean, rank)
            variance = self._broadcast(self.moving_variance, rank)
        inv = ops.reciprocal(ops.sqrt(variance + self.epsilon))
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma, rank)
        outputs = (inputs - mean) * inv
        if self.beta is not None:
            outputs = outputs + self._broadcast(self.beta, rank)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer":
                initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
        }
