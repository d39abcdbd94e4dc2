"""SimpleRNNCell, LSTMCell, GRUCell: one time step each, Keras 3 weights and gate order."""

from webkeras import activations, constraints, initializers, ops, regularizers
from webkeras.layers.layer import Layer
from webkeras.layers.rnn.rnn import DropoutRNNCell
from webkeras.ops.recurrent import rnn_sequence
from webkeras.utils import random_state

_ser = {"initializer": initializers.serialize, "regularizer": regularizers.serialize,
        "constraint": constraints.serialize}


class _Cell(DropoutRNNCell, Layer):
    """Shared arguments of the three cells."""

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._seed_rng = random_state.make_rng(seed) if seed is not None else None
        self.state_size = units
        self.output_size = units

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        n = self.gates * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], n), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, n), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(), name="bias", initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    @property
    def fused_cell(self):
        """The fused primitive's cell (ops.recurrent) when it computes this cell exactly: the
        built-in class itself (a subclass may change `call`) with Keras's default activations.
        None: the RNN runs the per-step loop."""
        if type(self) not in _FUSED or self.activation is not activations.tanh:
            return None
        if getattr(self, "recurrent_activation", activations.sigmoid) is not activations.sigmoid:
            return None
        return _FUSED[type(self)](self)

    def _input_and_recurrent_bias(self):
        return self.bias, None

    def call_sequence(self, sequences, states, mask=None, training=False, go_backwards=False,
                      zero_output_for_mask=False):
        """Every step at once (see `fused_cell`) -> (outputs in step order, final states)."""
        batch, steps, features = sequences.shape
        # The masks in the per-step path's order (input first), from the same generator.
        input_mask = self.input_dropout_mask((batch, features), sequences.dtype, training)
        recurrent_mask = self.recurrent_dropout_mask((batch, self.units), sequences.dtype,
                                                     training)
        if input_mask is not None:
            sequences = sequences * ops.expand_dims(input_mask, 1)
        input_bias, recurrent_bias = self._input_and_recurrent_bias()
        # One (batch * steps, features) product: its kernel gradient is one product too.
        projected = ops.matmul(ops.reshape(sequences, (batch * steps, features)), self.kernel)
        if input_bias is not None:
            projected = projected + input_bias
        projected = ops.reshape(projected, (batch, steps, self.gates * self.units))
        return rnn_sequence(self.fused_cell, projected, states, self.recurrent_kernel,
                            recurrent_bias, mask=mask, recurrent_dropout=recurrent_mask,
                            go_backwards=go_backwards,
                            zero_output_for_mask=zero_output_for_mask)

    def get_config(self):
        config = {**Layer.get_config(self), "units": self.units,
                  "activation": activations.serialize(self.activation),
                  "use_bias": self.use_bias}
        for kind in ("initializer", "regularizer", "constraint"):
            for prefix in ("kernel", "recurrent", "bias"):
                config[f"{prefix}_{kind}"] = _ser[kind](getattr(self, f"{prefix}_{kind}"))
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                       "seed": self.seed})
        return config


class SimpleRNNCell(_Cell):
    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        inputs = self.dropout_inputs(inputs, training)
        h = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        h_tm1 = self.dropout_state(h_tm1, training)
        output = self.activation(h + ops.matmul(h_tm1, self.recurrent_kernel))
        return output, [output]


class LSTMCell(_Cell):
    """Gates in Keras's order: input, forget, cell, output."""

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype="float32"):
            return ops.concatenate([base((units,), dtype), initializers.get("ones")(
                (units,), dtype), base((units * 2,), dtype)])

        return initializer

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states
        inputs = self.dropout_inputs(inputs, training)
        h_tm1 = self.dropout_state(h_tm1, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_tm1, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        z0, z1, z2, z3 = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z0)
        f = self.recurrent_activation(z1)
        c = f * c_tm1 + i * self.activation(z2)
        o = self.recurrent_activation(z3)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """Gates in Keras's order: update (z), reset (r), candidate (h). `reset_after=True`
    (Keras 3's default) applies the reset gate after the recurrent matmul and keeps two
    biases (input and recurrent), shape (2, 3 * units)."""

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_and_recurrent_bias(self):
        if self.bias is not None and self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        inputs = self.dropout_inputs(inputs, training)
        h_dropped = self.dropout_state(h_tm1, training)
        input_bias, recurrent_bias = self._input_and_recurrent_bias()
        matrix_x = ops.matmul(inputs, self.kernel)
        if input_bias is not None:
            matrix_x = matrix_x + input_bias
        x_z, x_r, x_h = ops.split(matrix_x, 3, axis=-1)
        if self.reset_after:
            matrix_inner = ops.matmul(h_dropped, self.recurrent_kernel)
            if recurrent_bias is not None:
                matrix_inner = matrix_inner + recurrent_bias
            rec_z, rec_r, rec_h = ops.split(matrix_inner, 3, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            hh = self.activation(x_h + r * rec_h)
        else:
            u = self.units
            kernel_zr = self.recurrent_kernel[:, :2 * u]
            rec_z, rec_r = ops.split(ops.matmul(h_dropped, kernel_zr), 2, axis=-1)
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            hh = self.activation(x_h + ops.matmul(r * h_dropped,
                                                  self.recurrent_kernel[:, 2 * u:]))
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


_FUSED = {SimpleRNNCell: lambda cell: "simple_rnn", LSTMCell: lambda cell: "lstm",
          GRUCell: lambda cell: "gru" if cell.reset_after else "gru_reset_before"}
