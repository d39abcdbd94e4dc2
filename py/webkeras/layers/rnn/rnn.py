"""RNN: runs a cell over the time axis (masking, go_backwards, return_sequences/state).

Cells follow Keras 3: `cell.call(inputs_t, states, training)` -> `(output_t, new_states)`,
with `state_size` and `output_size`. One rule picks the path: a cell whose `fused_cell` is set
(the built-in SimpleRNNCell / LSTMCell / GRUCell, exactly those classes, with Keras's default
activations) runs the whole sequence as one primitive (`cell.call_sequence`, ops.recurrent);
any other cell runs the per-step loop here, plain Python over ops, whose gradients come from the
ops' VJPs (backpropagation through time). Both give the same numbers.

With `stateful=True` the last states of a batch are the initial states of the next (for a
fixed batch size): they live in non-trainable variables (`layer.states`, not weights) and
`reset_states()` zeroes them.
"""

import numpy as np

from webkeras import ops
from webkeras.layers.input_spec import InputSpec
from webkeras.layers.keras_tensor import in_symbolic_scope
from webkeras.layers.layer import Layer
from webkeras.ops.tensor import Variable
from webkeras.utils import random_state
from webkeras.layers.serialization import deserialize_layer, serialize_layer


class DropoutRNNCell:
    """Mixin: one input and one recurrent dropout mask per sequence, as Keras uses."""

    def reset_dropout_masks(self):
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def _make_mask(self, rate, shape, dtype):
        # A host draw: a traced step draws it again at each replay.
        return ops.convert_to_tensor(random_state.host_sample(
            self._seed_rng, lambda rng: random_state.dropout_scale(rng, shape, rate, dtype)))

    def input_dropout_mask(self, shape, dtype, training):
        """This sequence's input dropout mask (drawn on first use), or None."""
        if not training or not 0 < self.dropout < 1:
            return None
        if getattr(self, "_dropout_mask", None) is None:
            self._dropout_mask = self._make_mask(self.dropout, shape, dtype)
        return self._dropout_mask

    def recurrent_dropout_mask(self, shape, dtype, training):
        """This sequence's recurrent dropout mask (drawn on first use), or None."""
        if not training or not 0 < self.recurrent_dropout < 1:
            return None
        if getattr(self, "_recurrent_dropout_mask", None) is None:
            self._recurrent_dropout_mask = self._make_mask(self.recurrent_dropout, shape,
                                                           dtype)
        return self._recurrent_dropout_mask

    def dropout_inputs(self, inputs, training):
        mask = self.input_dropout_mask(inputs.shape, inputs.dtype, training)
        return inputs if mask is None else inputs * mask

    def dropout_state(self, h, training):
        mask = self.recurrent_dropout_mask(h.shape, h.dtype, training)
        return h if mask is None else h * mask


class RNN(Layer):
    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = deserialize_layer(cell)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        # Stateful only: the carried states, created once the batch size is known. Kept
        # under a private name so that they are not tracked as weights (as in Keras).
        self._states = None

    @property
    def states(self):
        """The carried state variables of a stateful RNN (None until its batch size is known,
        and for a stateless one)."""
        return self._states

    @property
    def _output_size(self):
        # As Keras 3: a cell without `output_size` outputs its first state.
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else self.state_size[0]

    @property
    def state_size(self):
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def build(self, input_shape):
        # A cell loaded with its own build_config is built already (Keras 3 checks too).
        if not self.cell.built:
            self.cell.build(tuple(input_shape[:1]) + tuple(input_shape[2:]))
            self.cell.built = True
        if self.stateful and input_shape[0] is not None and self._states is None:
            self._create_state_variables(int(input_shape[0]))

    def _create_state_variables(self, batch_size):
        self._states = [Variable(state, trainable=False, name="rnn_state",
                                 parent_path=self.name)
                        for state in self.get_initial_state(batch_size)]

    def reset_states(self, states=None):
        """Zeroes the carried states of a stateful RNN, or sets them to `states`."""
        if states is None:
            for variable in self._states or []:
                variable.assign(ops.zeros_like(variable))
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if self._states is None:
            self._create_state_variables(int(np.shape(states[0])[0]))
        for variable, value in zip(self._states, states):
            variable.assign(value)

    reset_state = reset_states

    def _stateful_initial_state(self, batch):
        if in_symbolic_scope():
            # Shape inference on placeholders: neither read nor disturb the carried state.
            return self.get_initial_state(batch)
        if self._states is None:
            self._create_state_variables(batch)
        expected = self._states[0].shape[0]
        if batch != expected:
            raise ValueError(
                f"Layer '{self.name}' is stateful, so the batch size of its input sequences "
                f"must stay the batch size of its stored states. Expected batch size: "
                f"{expected}; received: {batch}. Feed batches of {expected} samples "
                "(`batch_size=` in fit/predict, and a sample count divisible by it).")
        # A copy: the variables are assigned in place after the pass, and the gradient of
        # this pass must still see the values it started from.
        return [ops.add(variable, 0.0) for variable in self._states]

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        units = self._output_size
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output] + [(batch, s) for s in self.state_size]
        return output

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, list) else previous_mask
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def get_initial_state(self, batch_size):
        return [ops.zeros((batch_size, s)) for s in self.state_size]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if isinstance(mask, list):
            mask = mask[0]
        batch, steps = sequences.shape[0], sequences.shape[1]
        if initial_state is not None:
            states = list(initial_state)
        elif self.stateful:
            states = self._stateful_initial_state(batch)
        else:
            states = self.get_initial_state(batch)
        states = [ops.convert_to_tensor(s) for s in states]
        if hasattr(self.cell, "reset_dropout_masks"):
            self.cell.reset_dropout_masks()
        if getattr(self.cell, "fused_cell", None) is not None:
            outputs, states = self.cell.call_sequence(
                sequences, states, mask=mask, training=training,
                go_backwards=self.go_backwards, zero_output_for_mask=self.zero_output_for_mask)
            return self._finish(outputs, outputs[:, steps - 1], states, batch)
        outputs, states, previous = self._step_loop(sequences, states, mask, training)
        return self._finish(outputs, previous, states, batch)

    def _step_loop(self, sequences, states, mask, training):
        batch, steps = sequences.shape[0], sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, previous = [], ops.zeros((batch, self._output_size), sequences.dtype)
        # As Keras 3: `training` only goes to a cell whose `call` takes it.
        cell_kwargs = {"training": training} if _takes_training(self.cell) else {}
        for t in order:
            output, new_states = self.cell.call(sequences[:, t], states, **cell_kwargs)
            if mask is not None:
                keep = ops.expand_dims(ops.cast(mask[:, t], "bool"), -1)
                new_states = [ops.where(keep, n, s) for n, s in zip(new_states, states)]
                fallback = ops.zeros_like(output) if self.zero_output_for_mask else previous
                output = ops.where(keep, output, fallback)
            states, previous = list(new_states), output
            outputs.append(output)
        return (ops.stack(outputs, axis=1) if self.return_sequences else None), states, previous

    def _finish(self, outputs, last_output, states, batch):
        """Keeps a stateful RNN's states; the layer's result (outputs when return_sequences)."""
        if self.stateful and not in_symbolic_scope():
            if self._states is None:
                self._create_state_variables(batch)
            for variable, state in zip(self._states, states):
                variable.assign(ops.stop_gradient(state))
        result = outputs if self.return_sequences else last_output
        if self.return_state:
            return [result] + states
        return result

    def get_config(self):
        config = {**super().get_config(), "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards,
                  "stateful": self.stateful, "unroll": self.unroll,
                  "zero_output_for_mask": self.zero_output_for_mask}
        if type(self) is RNN:
            config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A custom cell loads from `custom_objects` as well as from the registry."""
        config = dict(config)
        if isinstance(config.get("cell"), dict):
            config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return cls(**config)


def _takes_training(cell):
    import inspect

    params = inspect.signature(cell.call).parameters
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
