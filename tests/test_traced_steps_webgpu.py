"""Traced steps on the WebGPU backend (wgpu-py; lavapipe here): a replayed step is one
command buffer and one submit (trainers/webgpu_plan.py), and trains exactly as eager.

Each case trains the same model from the same seed both ways for 20 steps and compares the
weights (BatchNormalization's moving statistics among them) within 1e-5 and every batch's and
epoch's logs. The traced model must replay device programs (no fallback).
"""

import gc

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, layers
from webkeras.trainers.webgpu_plan import DevicePlan

from test_traced_steps import STEPS, LogRecorder, _lstm, dropout_step_losses


@pytest.fixture(autouse=True)
def webgpu_backend():
    pytest.importorskip("wgpu")
    with backend.backend_scope("webgpu") as gpu:
        yield gpu


def _mlp():
    return keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                             layers.Dropout(0.25), layers.Dense(4, activation="softmax")])


def _cnn():
    return keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(), layers.MaxPooling2D(2), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(4, activation="softmax")])


def _data(kind, n=64):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, n)
    if kind == "cnn":
        return rng.normal(size=(n, 8, 8, 2)).astype("float32"), y
    if kind == "lstm":
        tokens = rng.integers(1, 30, (n, 7))
        tokens[np.arange(7)[None] >= rng.integers(2, 8, n)[:, None]] = 0
        return tokens, y
    return rng.normal(size=(n, 12)).astype("float32"), y


BUILDERS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm}
CASES = {
    # name: (model, optimizer, windows on the host: None = the adapter's choice)
    "mlp_dropout_sgd_momentum": ("mlp", lambda: keras.optimizers.SGD(0.05, momentum=0.9), None),
    "cnn_bn_dropout_adam_kernels": ("cnn", lambda: keras.optimizers.Adam(1e-2), False),
    "cnn_host_windows_schedule": ("cnn", lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.7, staircase=True)), True),
    "lstm_masking_rmsprop": ("lstm", lambda: keras.optimizers.RMSprop(1e-2), None),
}


@pytest.fixture
def windows_on_host(webgpu_backend):
    limits = webgpu_backend.limits
    saved = limits.windows_on_host

    def choose(value):
        if value is not None:
            limits.windows_on_host = value

    yield choose
    limits.windows_on_host = saved


def _train(case, jit_compile):
    kind, optimizer, _ = CASES[case]
    keras.utils.set_random_seed(3)
    model = BUILDERS[kind]()
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    x, y = _data(kind)
    recorder = LogRecorder()
    # 64 samples in batches of 16: 4 steps an epoch, 5 epochs = 20 steps.
    model.fit(x, y, batch_size=16, epochs=STEPS // 4, shuffle=True, verbose=0,
              callbacks=[recorder])
    return model, recorder


def _device_plans(model):
    signatures = model._step_plans._signatures
    plans = [s.plan for s in signatures.values()]
    assert plans and all(isinstance(p, DevicePlan) and p._built for p in plans)
    return plans


@pytest.mark.parametrize("case", sorted(CASES))
def test_traced_training_matches_eager(case, windows_on_host):
    windows_on_host(CASES[case][2])
    eager, eager_logs = _train(case, False)
    traced, traced_logs = _train(case, True)
    _device_plans(traced)
    for a, b, w in zip(eager.get_weights(), traced.get_weights(), eager.weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5, err_msg=w.path)
    assert len(traced_logs.batches) == STEPS
    for a, b in zip(eager_logs.batches + eager_logs.epochs,
                    traced_logs.batches + traced_logs.epochs):
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(b)],
                                   rtol=0, atol=1e-5)
    assert eager.optimizer.iterations.numpy() == traced.optimizer.iterations.numpy() == STEPS


def test_dropout_masks_are_fresh_at_each_replay():
    _, eager_losses = dropout_step_losses(False)
    traced, traced_losses = dropout_step_losses(True)
    _device_plans(traced)
    np.testing.assert_allclose(traced_losses, eager_losses, rtol=1e-6)
    assert len(set(traced_losses[-10:])) >= 8


def _replaying_mlp():
    keras.utils.set_random_seed(2)
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=True)
    x, y = _data("mlp", 16)
    for _ in range(4):
        model.train_on_batch(x, y)
    _device_plans(model)
    return model, (x, y, None)


def test_a_replayed_step_is_one_submit(webgpu_backend):
    model, batch = _replaying_mlp()
    driver = webgpu_backend.driver
    (plan,) = _device_plans(model)
    program_dispatches = sum(
        1 for segment in plan._built.segments for command in segment.commands
        if command[0][0] == "dispatch")
    submits, dispatches = driver.submits, driver.dispatches
    logs = model._run_step("train", batch)
    assert driver.submits - submits == 1
    assert driver.dispatches - dispatches == program_dispatches > 20
    # The logs are read back afterwards, one scalar each.
    assert np.isfinite(float(logs["loss"]))


def test_live_device_buffers_stay_flat_over_200_replayed_steps(webgpu_backend):
    model, (x, y, _) = _replaying_mlp()
    driver = webgpu_backend.driver
    for _ in range(10):
        model.train_on_batch(x, y)
    gc.collect()
    before = driver.buffer_count
    for _ in range(200):
        model.train_on_batch(x, y)
    gc.collect()
    assert driver.buffer_count == before


def test_auto_traces_on_webgpu(monkeypatch):
    monkeypatch.delenv("WEBKERAS_JIT_COMPILE", raising=False)
    model = _mlp()
    model.compile(loss="mse")
    assert model.jit_compile is True
