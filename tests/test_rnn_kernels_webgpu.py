"""The recurrence kernels of the WebGPU backend (backend/webgpu/recurrence_kernels.py,
kernels/rnn_*.wgsl) on real wgpu (lavapipe here): rnn_scan and its VJP against the NumPy
backend's over many shapes and options, one dispatch for a whole forward sequence, the composed
fallback for what the kernels do not run, and LSTM models trained on both backends, eagerly and
as a replayed traced step."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend
from webkeras.backend.numpy import NumpyBackend
from webkeras.backend.webgpu.recurrence_kernels import RecurrenceResiduals

L = keras.layers
GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1, "gru_reset_before": 3}


@pytest.fixture(scope="module")
def gpu():
    pytest.importorskip("wgpu")
    with backend.backend_scope("webgpu") as webgpu:
        yield webgpu


def _case(cell, batch, steps, units, options, seed):
    rng = np.random.default_rng(seed)
    width = GATES[cell] * units
    states = [rng.normal(size=(batch, units)) * 0.5 for _ in range(2 if cell == "lstm" else 1)]
    mask = None
    if options.get("masked"):
        mask = rng.random((batch, steps)) > 0.4
        mask[0] = False  # a whole-masked row
        if batch > 1:
            mask[-1, -1] = False  # a masked last step: the output repeats
    arrays = dict(
        inputs=rng.normal(size=(batch, steps, width)) * 0.7, states=states,
        kernel=rng.normal(size=(units, width)) * 0.6 / np.sqrt(units),
        bias=rng.normal(size=(width,)) * 0.3 if cell == "gru" else None, mask=mask,
        dropout=rng.random((batch, units)) * 2.0 if options.get("dropout") else None,
        grad=rng.normal(size=(batch, steps + len(states), units)))
    return {k: v if k == "mask" or v is None else
            ([s.astype("float32") for s in v] if k == "states" else v.astype("float32"))
            for k, v in arrays.items()}


def _scan_and_grad(xp, cell, case, options, needs=(True, True, True, True)):
    """rnn_scan then rnn_scan_grad on backend `xp` -> (host arrays, residuals)."""
    up = lambda a: None if a is None else xp.from_numpy(a)  # noqa: E731
    packed, res = xp.rnn_scan(cell, up(case["inputs"]), [up(s) for s in case["states"]],
                              up(case["kernel"]), up(case["bias"]), up(case["mask"]),
                              up(case["dropout"]), options.get("go_backwards", False),
                              options.get("zero_output", False))
    d_inputs, d_states, d_kernel, d_bias = xp.rnn_scan_grad(res, up(case["grad"]), needs)
    arrays = [packed, d_inputs, *(d_states or []), d_kernel, d_bias]
    return [None if a is None else xp.to_numpy(a) for a in arrays], res


def _assert_close(got, want):
    for g, w in zip(got, want, strict=True):
        assert (g is None) == (w is None)
        if w is not None:
            error = np.abs(g - w).max() / max(np.abs(w).max(), 1e-30)
            assert error <= 1e-5, f"max relative error {error:.2g}"


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("batch, steps, units, options", [
    (1, 1, 5, {}),
    (3, 4, 2, {"masked": True}),
    (2, 6, 3, {"masked": True, "zero_output": True, "go_backwards": True}),
    (5, 7, 33, {"dropout": True, "go_backwards": True}),
    (7, 9, 130, {"masked": True, "dropout": True}),
    (9, 61, 16, {"masked": True, "dropout": True, "zero_output": True}),
    (32, 80, 128, {"masked": True}),
])
def test_kernels_match_the_numpy_backend(gpu, cell, batch, steps, units, options):
    case = _case(cell, batch, steps, units, options, seed=[GATES[cell], batch, steps, units])
    got, res = _scan_and_grad(gpu, cell, case, options)
    assert isinstance(res, RecurrenceResiduals)
    want, _ = _scan_and_grad(NumpyBackend(), cell, case, options)
    _assert_close(got, want)


def test_a_forward_sequence_is_one_dispatch(gpu):
    case = _case("lstm", 4, 50, 24, {"masked": True, "dropout": True}, seed=0)
    up = gpu.from_numpy
    args = (up(case["inputs"]), [up(s) for s in case["states"]], up(case["kernel"]), None,
            up(case["mask"]), up(case["dropout"]), False, False)
    dispatches = gpu.driver.dispatches
    gpu.rnn_scan("lstm", *args)
    gpu.flush()
    assert gpu.driver.dispatches - dispatches == 1


def test_what_the_kernels_do_not_run_takes_the_composed_path(gpu):
    # reset_after=False needs every unit's reset gate before its product: composed.
    options = {"masked": True}
    case = _case("gru_reset_before", 3, 4, 5, options, seed=1)
    got, res = _scan_and_grad(gpu, "gru_reset_before", case, options)
    assert not isinstance(res, RecurrenceResiduals)
    _assert_close(got, _scan_and_grad(NumpyBackend(), "gru_reset_before", case, options)[0])
    # More units than one workgroup's shared memory holds the gates of.
    units = gpu.recurrences.shared_floats // 4 + 1
    assert gpu.recurrences.launch("lstm", 2, units) is None
    assert not gpu.recurrences.covers("lstm", gpu.full((2, 3, 4 * units), 0.0, "float32"),
                                      [gpu.full((2, units), 0.0, "float32")] * 2,
                                      gpu.full((units, 4 * units), 0.0, "float32"), None, None)


def _imdb_like_weights(backend_name, jit_compile, recurrent_dropout=0.0, steps=20):
    """Embedding(mask_zero) -> LSTM -> Dense, Adam (as M3, small): weights after `steps`."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 50, (8, 12))
    x[:3, 7:] = 0  # padded tails: the masked path
    x[3, :] = 0  # a whole-masked row
    y = rng.integers(0, 2, (8, 1)).astype("float32")
    with backend.backend_scope(backend_name):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((12,)), L.Embedding(50, 6, mask_zero=True),
                                  L.LSTM(9, recurrent_dropout=recurrent_dropout),
                                  L.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit_compile)
        losses = [float(model.train_on_batch(x, y)) for _ in range(steps)]
        assert losses[-1] < losses[0]
        return model, model.get_weights()


@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.3])
def test_an_lstm_trains_20_steps_as_on_numpy(gpu, recurrent_dropout):
    _, want = _imdb_like_weights("numpy", False, recurrent_dropout)
    _, got = _imdb_like_weights("webgpu", False, recurrent_dropout)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_a_traced_lstm_step_replays_the_kernels(gpu):
    from test_traced_steps_webgpu import _device_plans

    _, eager = _imdb_like_weights("webgpu", False)
    model, traced = _imdb_like_weights("webgpu", True)
    (plan,) = _device_plans(model)
    dispatches = sum(1 for segment in plan._built.segments for command in segment.commands
                     if command[0][0] == "dispatch")
    assert dispatches < 100  # O(1) dispatches a step, not O(timesteps)
    for g, w in zip(traced, eager, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_an_m3_train_step_takes_under_250_dispatches(gpu):
    # M3 of bench/train_step.py: 4,095 dispatches a step when the recurrence was composed.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20000, (32, 80))
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((80,)), L.Embedding(20000, 128), L.LSTM(128),
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=False)
    model.train_on_batch(x, y)
    dispatches = gpu.driver.dispatches
    model.train_on_batch(x, y)
    assert gpu.driver.dispatches - dispatches < 250
