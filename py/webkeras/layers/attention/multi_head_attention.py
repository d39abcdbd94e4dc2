"""MultiHeadAttention (Vaswani et al., 2017) with Keras 3's weights, masks and defaults."""

import math

import numpy as np

from webkeras import constraints, initializers, ops, regularizers
from webkeras.layers.layer import Layer
from webkeras.utils import random_state

_PROJECTIONS = ("query", "key", "value", "attention_output")


class MultiHeadAttention(Layer):
    """`layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)` on `(batch, steps, features)` tensors.

    Weights (Keras's order and shapes): query/key kernels `(dim, num_heads, key_dim)` and
    biases `(num_heads, key_dim)`, value `(dim, num_heads, value_dim)`, output kernel
    `(num_heads, value_dim, output_dim)` and bias `(output_dim,)`.
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if attention_axes not in (None, -2, (-2,), [-2], 1, (1,), [1]):
            raise NotImplementedError("attention_axes other than the time axis are not "
                                      "supported yet.")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self._output_shape = output_shape
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._rng = random_state.make_rng(seed) if seed is not None else None
        self._weights_built = False

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        h, k, v = self.num_heads, self.key_dim, self.value_dim
        out_dim = query_shape[-1] if self._output_shape is None else (
            self._output_shape if isinstance(self._output_shape, int)
            else self._output_shape[-1])
        specs = {
            "query": ((query_shape[-1], h, k), (h, k)),
            "key": ((key_shape[-1], h, k), (h, k)),
            "value": ((value_shape[-1], h, v), (h, v)),
            "attention_output": ((h, v, out_dim), (out_dim,)),
        }
        for name in _PROJECTIONS:
            kernel_shape, bias_shape = specs[name]
            kernel = self.add_weight(kernel_shape, self.kernel_initializer, name="kernel",
                                     regularizer=self.kernel_regularizer,
                                     constraint=self.kernel_constraint)
            kernel.path = f"{self.name}/{name}/kernel"
            setattr(self, f"_{name}_kernel", kernel)
            bias = None
            if self.use_bias:
                bias = self.add_weight(bias_shape, self.bias_initializer, name="bias",
                                       regularizer=self.bias_regularizer,
                                       constraint=self.bias_constraint)
                bias.path = f"{self.name}/{name}/bias"
            setattr(self, f"_{name}_bias", bias)
        self._weights_built = True
        self.built = True

    def _maybe_build(self, input_shapes):
        # Built on the first call instead, when the value and key shapes are known too.
        pass

    def _project(self, x, name):
        kernel, bias = getattr(self, f"_{name}_kernel"), getattr(self, f"_{name}_bias")
        d, h, n = kernel.shape
        y = ops.matmul(x, ops.reshape(kernel, (d, h * n)))
        y = ops.reshape(y, tuple(x.shape[:-1]) + (h, n))
        return y + bias if bias is not None else y

    def _attention_mask(self, query, value, attention_mask, use_causal_mask, masks):
        query_mask, value_mask, key_mask = masks
        mask = None
        steps_q, steps_v = query.shape[1], value.shape[1]
        if query_mask is not None:
            mask = ops.cast(ops.expand_dims(query_mask, -1), "float32")
        if value_mask is not None:
            vm = ops.cast(ops.expand_dims(value_mask, -2), "float32")
            mask = vm if mask is None else mask * vm
        if key_mask is not None:
            km = ops.cast(ops.expand_dims(key_mask, -2), "float32")
            mask = km if mask is None else mask * km
        if use_causal_mask:
            causal = ops.convert_to_tensor(
                np.tril(np.ones((1, steps_q, steps_v), dtype="float32")))
            mask = causal if mask is None else mask * causal
        if attention_mask is not None:
            am = ops.cast(attention_mask, "float32")
            mask = am if mask is None else mask * am
        return mask

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        query, value = ops.convert_to_tensor(query), ops.convert_to_tensor(value)
        key = value if key is None else ops.convert_to_tensor(key)
        if not self._weights_built:
            self.build(query.shape, value.shape, key.shape)
        q = self._project(query, "query") * (1.0 / math.sqrt(float(self.key_dim)))
        k = self._project(key, "key")
        v = self._project(value, "value")
        # (batch, heads, steps_q, key_dim) @ (batch, heads, key_dim, steps_k)
        scores = ops.matmul(ops.transpose(q, (0, 2, 1, 3)), ops.transpose(k, (0, 2, 3, 1)))
        mask = self._attention_mask(query, value, attention_mask, use_causal_mask,
                                    (query_mask, value_mask, key_mask))
        if mask is not None:
            # Keras's Softmax(mask): masked positions get a large negative logit.
            scores = scores + (1.0 - ops.expand_dims(mask, 1)) * -1e9
        probabilities = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            shape, rate, dtype = probabilities.shape, self.dropout, probabilities.dtype
            # A host draw: a traced step draws it again at each replay.
            probabilities = probabilities * ops.convert_to_tensor(random_state.host_sample(
                self._rng, lambda rng: random_state.dropout_scale(rng, shape, rate, dtype)))
        context = ops.matmul(probabilities, ops.transpose(v, (0, 2, 1, 3)))
        context = ops.transpose(context, (0, 2, 1, 3))  # (batch, steps_q, heads, value_dim)
        h, vd, out_dim = self._attention_output_kernel.shape
        batch, steps = context.shape[0], context.shape[1]
        output = ops.matmul(ops.reshape(context, (batch, steps, h * vd)),
                            ops.reshape(self._attention_output_kernel, (h * vd, out_dim)))
        if self._attention_output_bias is not None:
            output = output + self._attention_output_bias
        if return_attention_scores:
            return output, probabilities
        return output

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if self._output_shape is None:
            return tuple(query_shape)
        tail = (self._output_shape,) if isinstance(self._output_shape, int) \
            else tuple(self._output_shape)
        return tuple(query_shape[:-1]) + tail

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads, "key_dim": self.key_dim,
            "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
            "output_shape": self._output_shape, "attention_axes": self.attention_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }
