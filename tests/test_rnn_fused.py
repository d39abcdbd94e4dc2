"""The fused recurrence (ops.recurrent.rnn_sequence, Backend.rnn_scan): its gradients against
finite differences, and the fused and per-step paths giving the same numbers (outputs, states,
gradients, weights after 20 Adam steps) on the NumPy and WebGPU backends."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, ops
from webkeras.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from webkeras.ops.recurrent import rnn_sequence
from webkeras.ops.tape import GradientTape
from webkeras.testing.gradients import check_gradients

L = keras.layers


# Subclasses keep the per-step loop (the rule: only the built-in classes themselves fuse).
class StepLSTMCell(LSTMCell):
    pass


class StepGRUCell(GRUCell):
    pass


class StepSimpleRNNCell(SimpleRNNCell):
    pass


GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}
FUSED_AND_STEP = {"lstm": (LSTMCell, StepLSTMCell, {}), "gru": (GRUCell, StepGRUCell, {}),
                  "gru_reset_before": (GRUCell, StepGRUCell, {"reset_after": False}),
                  "simple_rnn": (SimpleRNNCell, StepSimpleRNNCell, {})}


@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("batch, steps, units, options", [
    (2, 3, 2, {}),
    (3, 4, 2, {"masked": True}),
    (2, 3, 3, {"masked": True, "zero_output_for_mask": True, "go_backwards": True}),
    (2, 3, 2, {"dropout": True, "go_backwards": True}),
])
def test_gradients_match_finite_differences(cell, batch, steps, units, options):
    rng = np.random.default_rng([GATES[cell], batch, steps, units, len(options)])
    n_states = 2 if cell == "lstm" else 1
    width = GATES[cell] * units
    arrays = [rng.normal(size=(batch, steps, width)) * 0.7]
    arrays += [rng.normal(size=(batch, units)) * 0.5 for _ in range(n_states)]
    arrays.append(rng.normal(size=(units, width)) * 0.6)
    if cell == "gru":
        arrays.append(rng.normal(size=(width,)) * 0.3)
    mask = None
    if options.get("masked"):
        mask = rng.random((batch, steps)) > 0.4
        mask[0] = [True] * (steps - 1) + [False]  # a masked last step: the output repeats
    dropout = rng.random((batch, units)) * 2.0 if options.get("dropout") else None

    def fn(inputs, *rest):
        states, kernel = list(rest[:n_states]), rest[n_states]
        bias = rest[n_states + 1] if cell == "gru" else None
        outputs, final = rnn_sequence(
            cell, inputs, states, kernel, bias, mask=mask,
            recurrent_dropout=None if dropout is None else ops.convert_to_tensor(dropout),
            go_backwards=options.get("go_backwards", False),
            zero_output_for_mask=options.get("zero_output_for_mask", False))
        return ops.concatenate([ops.reshape(outputs, (batch, -1))] + final, axis=1)

    check_gradients(fn, *arrays, rtol=1e-5, atol=1e-7)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Unknown recurrent cell 'cudnn'"):
        rnn_sequence("cudnn", np.zeros((1, 2, 4)), [np.zeros((1, 4))], np.zeros((4, 4)))
    with pytest.raises(ValueError, match="takes 2 state"):
        rnn_sequence("lstm", np.zeros((1, 2, 8)), [np.zeros((1, 2))], np.zeros((2, 8)))
    with pytest.raises(ValueError, match="recurrent bias goes with the 'gru' cell"):
        rnn_sequence("lstm", np.zeros((1, 2, 8)), [np.zeros((1, 2))] * 2, np.zeros((2, 8)),
                     np.zeros((8,)))


def test_the_rule_picks_the_path():
    assert L.LSTM(2).cell.fused_cell == "lstm"
    assert L.GRU(2).cell.fused_cell == "gru"
    assert L.GRU(2, reset_after=False).cell.fused_cell == "gru_reset_before"
    assert L.SimpleRNN(2).cell.fused_cell == "simple_rnn"
    assert L.LSTM(2, stateful=True, dropout=0.2).cell.fused_cell == "lstm"
    # Other activations, or a subclass (which may change `call`), run the per-step loop.
    assert L.SimpleRNN(2, activation="relu").cell.fused_cell is None
    assert L.LSTM(2, recurrent_activation="hard_sigmoid").cell.fused_cell is None
    assert StepLSTMCell(2).fused_cell is None


def _pair(cell_name, return_sequences, return_state, go_backwards, **cell_kwargs):
    """The same layer, fused and per-step, with the same weights."""
    fused_cls, step_cls, extra = FUSED_AND_STEP[cell_name]
    layers = [L.RNN(cls(3, seed=7, **extra, **cell_kwargs), return_sequences=return_sequences,
                    return_state=return_state, go_backwards=go_backwards)
              for cls in (fused_cls, step_cls)]
    return layers


@pytest.mark.parametrize("backend_name", ["numpy", "webgpu"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_fused_and_step_paths_agree_on_outputs_states_and_gradients(backend_name, cell):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 1, 0]], dtype=bool)
    options = [(True, True, False, {}), (False, True, True, {}),
               (True, False, False, {"dropout": 0.3, "recurrent_dropout": 0.4})]
    with backend.backend_scope(backend_name):
        for return_sequences, return_state, go_backwards, cell_kwargs in options:
            fused, step = _pair(cell, return_sequences, return_state, go_backwards,
                                **cell_kwargs)
            assert fused.cell.fused_cell == cell and step.cell.fused_cell is None
            results = []
            for layer in (fused, step):
                inputs = ops.convert_to_tensor(x)
                layer(inputs)
                if layer is step:
                    step.set_weights(fused.get_weights())
                with GradientTape() as tape:
                    tape.watch(inputs)
                    out = layer(inputs, mask=ops.convert_to_tensor(mask), training=True)
                    outs = out if isinstance(out, list) else [out]
                    loss = sum(ops.sum(o * o * (i + 1.0)) for i, o in enumerate(outs))
                grads = tape.gradient(loss, [inputs] + layer.trainable_weights)
                results.append([o.numpy() for o in outs] + [g.numpy() for g in grads])
            for a, b in zip(*results):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _imdb_like(cell_layer_fused, cell_layer_step, backend_name):
    """Embedding(mask_zero) -> RNN -> Dense, fused and per-step, 20 Adam steps on each."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 50, (8, 10))
    x[:3, 6:] = 0  # padded tails: the masked path
    y = rng.integers(0, 2, (8, 1)).astype("float32")
    weights = []
    with backend.backend_scope(backend_name):
        models = []
        for rnn in (cell_layer_fused, cell_layer_step):
            keras.utils.set_random_seed(5)
            model = keras.Sequential([keras.Input((10,)), L.Embedding(50, 6, mask_zero=True),
                                      rnn, L.Dense(1, activation="sigmoid")])
            model.compile(optimizer="adam", loss="binary_crossentropy")  # as M3
            models.append(model)
        models[1].set_weights(models[0].get_weights())
        for model in models:
            losses = [model.train_on_batch(x, y) for _ in range(20)]
            weights.append(model.get_weights())
            assert losses[-1] < losses[0]
    return weights


@pytest.mark.parametrize("backend_name", ["numpy", "webgpu"])
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_weights_after_20_adam_steps_agree(backend_name, cell):
    fused_cls, step_cls, extra = FUSED_AND_STEP[cell]
    kwargs = {"dropout": 0.2, "recurrent_dropout": 0.2} if cell == "lstm" else {}
    fused = L.RNN(fused_cls(5, seed=11, **extra, **kwargs), go_backwards=cell == "gru")
    step = L.RNN(step_cls(5, seed=11, **extra, **kwargs), go_backwards=cell == "gru")
    fused_weights, step_weights = _imdb_like(fused, step, backend_name)
    for a, b in zip(fused_weights, step_weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_lstm_layer_trains_fused_with_bidirectional_and_stateful():
    # The keras.layers classes themselves run fused, Bidirectional's backward copy included.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    model = keras.Sequential([keras.Input((6, 3), batch_size=4),
                              L.Bidirectional(L.LSTM(4, return_sequences=True)),
                              L.GRU(3, stateful=True), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    first = model.train_on_batch(x, np.ones((4, 1)))
    for _ in range(10):
        last = model.train_on_batch(x, np.ones((4, 1)))
    assert last < first
    state = model.layers[1].states[0].numpy()
    assert np.abs(state).max() > 0  # the stateful GRU kept its last states
