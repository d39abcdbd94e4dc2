"""Traced steps (`compile(jit_compile=True)`) against eager ones (`jit_compile=False`).

Each case trains the same model from the same seed both ways and compares weights (within
1e-6; BatchNormalization's moving statistics are among them), every step's logs and the
callbacks' view of them. The traced model must really replay (a plan, no eager fallback).
"""

import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers, ops
from webkeras.trainers.plan_recording import Untraceable

pytestmark = pytest.mark.usefixtures("numpy_backend")

STEPS = 20


def _mlp():
    return keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                             layers.Dense(4, activation="softmax")])


def _cnn():
    return keras.Sequential([
        keras.Input((10, 10, 2)), layers.Conv2D(6, 3, activation="relu"),
        layers.BatchNormalization(), layers.MaxPooling2D(2), layers.Dropout(0.3),
        layers.Conv2D(8, 2, padding="same"), layers.AveragePooling2D(2), layers.Flatten(),
        layers.Dense(4, activation="softmax")])


def _lstm():
    return keras.Sequential([keras.Input((7,)), layers.Embedding(30, 8, mask_zero=True),
                             layers.LSTM(6), layers.Dense(4, activation="softmax")])


def _regularized():
    return keras.Sequential([
        keras.Input((12,)),
        layers.Dense(16, activation="tanh", kernel_regularizer=keras.regularizers.L2(1e-2),
                     kernel_constraint=keras.constraints.MaxNorm(0.5),
                     activity_regularizer=keras.regularizers.L1(1e-3)),
        layers.Dense(4, activation="softmax", bias_constraint=keras.constraints.NonNeg())])


class Sampling(layers.Layer):
    """The Keras guides' VAE sampling layer: z = mean + exp(log_var / 2) * N(0, 1), drawn
    with `keras.random.normal` from the layer's SeedGenerator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class RandomOps(layers.Layer):
    """keras.random's other per-step draws: a seeded generator, the global one (seed=None),
    tensor parameters, and an int seed (the same values every step, as in Keras)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(7)

    def call(self, x, training=False):
        if not training:
            return x
        shape = ops.shape(x)
        x = keras.random.dropout(x, 0.25, seed=self.seed_generator)
        x = x * keras.random.uniform(shape, 0.5, 1.5)
        x = x + keras.random.truncated_normal(shape, stddev=ops.std(x), seed=self.seed_generator)
        x = ops.take(x, keras.random.randint((shape[1],), 0, shape[1], seed=self.seed_generator),
                     axis=1)
        return x + 0.1 * keras.random.normal(shape, seed=5)


def _vae():
    inputs = keras.Input((12,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    z = Sampling()([layers.Dense(4)(hidden), layers.Dense(4)(hidden)])
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(z))


def _random_ops():
    return keras.Sequential([keras.Input((12,)), layers.Dense(8), RandomOps(),
                             layers.Dense(4, activation="softmax")])


def _recurrent_dropout(rnn):
    return lambda: keras.Sequential([
        keras.Input((7,)), layers.Embedding(30, 8, mask_zero=True),
        rnn(6, dropout=0.2, recurrent_dropout=0.3), layers.Dense(4, activation="softmax")])


def _attention_dropout():
    inputs = keras.Input((5, 6))
    attended = layers.MultiHeadAttention(2, 3, dropout=0.3)(inputs, inputs)
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(layers.Flatten()(attended)))


def _noise_layers():
    return keras.Sequential([
        keras.Input((5, 6)), layers.SpatialDropout1D(0.3), layers.GaussianNoise(0.2),
        layers.Reshape((5, 6, 1)), layers.SpatialDropout2D(0.2, seed=4),
        layers.GaussianDropout(0.3, seed=9), layers.Flatten(),
        layers.Dense(4, activation="softmax")])


def _data(kind, n=64):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 4, n)
    if kind == "cnn":
        return rng.normal(size=(n, 10, 10, 2)).astype("float32"), y
    if kind in ("lstm", "lstm_recurrent_dropout", "gru_recurrent_dropout"):
        tokens = rng.integers(1, 30, (n, 7))
        # Sequences of every length padded with 0, so that the mask matters.
        tokens[np.arange(7)[None] >= rng.integers(2, 8, n)[:, None]] = 0
        return tokens, y
    if kind in ("attention_dropout", "noise_layers"):
        return rng.normal(size=(n, 5, 6)).astype("float32"), y
    if kind == "binary":
        x = rng.normal(size=(n, 12)).astype("float32")
        return x, (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype("float32")[:, None]
    return rng.normal(size=(n, 12)).astype("float32"), y


def _binary():
    return keras.Sequential([keras.Input((12,)), layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


BUILDERS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm, "regularized": _regularized,
            "binary": _binary}
# Models whose steps draw random values (each draw is redrawn at each replay).
RANDOM_BUILDERS = {"vae_sampling": _vae, "random_ops": _random_ops,
                   "lstm_recurrent_dropout": _recurrent_dropout(layers.LSTM),
                   "gru_recurrent_dropout": _recurrent_dropout(layers.GRU),
                   "attention_dropout": _attention_dropout, "noise_layers": _noise_layers}
BUILDERS.update(RANDOM_BUILDERS)
CASES = {
    # name: (model, optimizer, compile extras, fit extras)
    "mlp_sgd": ("mlp", lambda: keras.optimizers.SGD(0.05, momentum=0.9), {}, {}),
    "cnn_bn_dropout_adam": ("cnn", lambda: keras.optimizers.Adam(1e-2), {}, {}),
    "lstm_masking_rmsprop": ("lstm", lambda: keras.optimizers.RMSprop(1e-2), {}, {}),
    "regularizers_constraints_adamw": ("regularized", lambda: keras.optimizers.AdamW(1e-2),
                                       {}, {}),
    "class_weight": ("mlp", lambda: keras.optimizers.Adam(1e-2), {},
                     {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5, 3: 1.5}}),
    "sample_weight": ("mlp", lambda: keras.optimizers.SGD(0.1), {},
                      {"sample_weight": np.linspace(0.1, 2.0, 64).astype("float32")}),
    "lr_schedule": ("mlp", lambda: keras.optimizers.SGD(keras.optimizers.schedules
                                                        .ExponentialDecay(0.2, 3, 0.5)), {}, {}),
    "lr_schedule_adam": ("cnn", lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.7, staircase=True)), {}, {}),
    **{name: (name, lambda: keras.optimizers.Adam(1e-2), {}, {}) for name in RANDOM_BUILDERS},
    "auc_precision_recall": ("binary", lambda: keras.optimizers.Adam(1e-2), {
        "loss": "binary_crossentropy",
        "metrics": ["accuracy", keras.metrics.AUC(name="auc"),
                    keras.metrics.Precision(name="precision"),
                    keras.metrics.Recall(name="recall")]}, {}),
}


class LogRecorder(keras.callbacks.Callback):
    """Keeps every batch's and epoch's logs; stops training after `stop_at` batches."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.batches, self.epochs, self.stop_at = [], [], stop_at

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(dict(logs))
        if self.stop_at is not None and len(self.batches) >= self.stop_at:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


def _train(case, jit_compile, stop_at=None):
    kind, optimizer, compile_extra, fit_extra = CASES[case]
    keras.utils.set_random_seed(3)
    model = BUILDERS[kind]()
    compile_args = {"loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(
                        k=2, name="top2")],
                    "weighted_metrics": ["accuracy"] if "weight" in case else None}
    # Metric objects are made per model (they hold state).
    compile_args.update({key: [m if isinstance(m, str) else type(m).from_config(m.get_config())
                               for m in value] if key == "metrics" else value
                         for key, value in compile_extra.items()})
    model.compile(optimizer=optimizer(), jit_compile=jit_compile, **compile_args)
    x, y = _data(kind)
    recorder = LogRecorder(stop_at)
    # 64 samples in batches of 16: 4 steps an epoch, 5 epochs = 20 steps.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=16, epochs=STEPS // 4, shuffle=True, verbose=0,
                  callbacks=[recorder], validation_data=(x[:16], y[:16]), **fit_extra)
    assert not [w for w in caught if "jit_compile" in str(w.message)]
    return model, recorder


def _assert_replayed(model):
    signatures = model._step_plans._signatures
    assert signatures and all(s.plan is not None and s.eager_reason is None
                              for s in signatures.values())


@pytest.mark.parametrize("case", sorted(CASES))
def test_traced_training_matches_eager(case):
    eager, eager_logs = _train(case, False)
    traced, traced_logs = _train(case, True)
    _assert_replayed(traced)
    for a, b, w in zip(eager.get_weights(), traced.get_weights(), eager.weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, err_msg=w.path)
    assert len(traced_logs.batches) == STEPS
    for a, b in zip(eager_logs.batches + eager_logs.epochs,
                    traced_logs.batches + traced_logs.epochs):
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(b)],
                                   rtol=1e-6, atol=1e-7)
    assert eager.optimizer.iterations.numpy() == traced.optimizer.iterations.numpy() == STEPS
    x, _ = _data(CASES[case][0], 16)
    np.testing.assert_allclose(eager.predict(x, verbose=0), traced.predict(x, verbose=0),
                               rtol=0, atol=1e-6)


def test_stop_training_from_a_callback():
    eager, eager_logs = _train("mlp_sgd", False, stop_at=9)
    traced, traced_logs = _train("mlp_sgd", True, stop_at=9)
    assert len(traced_logs.batches) == len(eager_logs.batches) == 9
    assert traced.optimizer.iterations.numpy() == 9
    for a, b in zip(eager.get_weights(), traced.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def dropout_step_losses(jit_compile):
    """A model and its STEPS losses: Dropout on ones feeding a fixed all-ones kernel, learning
    rate 0, so the loss ((kept units * 2)^2 / 4) changes from step to step exactly when the
    mask does. Shared with test_traced_steps_webgpu."""
    keras.utils.set_random_seed(11)
    model = keras.Sequential([keras.Input((64,)), layers.Dropout(0.5),
                              layers.Dense(1, kernel_initializer="ones", use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", jit_compile=jit_compile)
    x, y = np.ones((4, 64), "float32"), np.zeros((4, 1), "float32")
    return model, [model.train_on_batch(x, y) for _ in range(STEPS)]


def test_dropout_masks_are_fresh_at_each_replay():
    _, eager_losses = dropout_step_losses(False)
    traced, traced_losses = dropout_step_losses(True)
    _assert_replayed(traced)
    np.testing.assert_allclose(traced_losses, eager_losses, rtol=1e-6)
    assert len(set(traced_losses[-10:])) >= 8


@pytest.mark.parametrize("kind", sorted(RANDOM_BUILDERS))
def test_random_draws_are_fresh_at_each_replay_and_match_eager(kind):
    # Learning rate 0: the weights stay put, so the loss changes from step to step exactly
    # when the step's noise does; traced and eager draw the same sequence.
    x, y = _data(kind, 16)

    def losses(jit_compile):
        keras.utils.set_random_seed(11)
        model = RANDOM_BUILDERS[kind]()
        model.compile(optimizer=keras.optimizers.SGD(0.0), jit_compile=jit_compile,
                      loss="sparse_categorical_crossentropy")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [model.train_on_batch(x, y) for _ in range(STEPS)]
        assert not [w for w in caught if "jit_compile" in str(w.message)]
        return model, values

    eager, eager_losses = losses(False)
    traced, traced_losses = losses("auto")
    _assert_replayed(traced)
    np.testing.assert_allclose(traced_losses, eager_losses, rtol=1e-6)
    assert len(set(traced_losses[-10:])) >= 8
    generators = [(a.seed_generator, b.seed_generator)
                  for a, b in zip(eager.layers, traced.layers) if hasattr(a, "seed_generator")]
    # A SeedGenerator advances once per draw, traced or not.
    assert all(a._counter == b._counter >= STEPS for a, b in generators)


class _ReadsBack(keras.Sequential):
    def train_step(self, data):
        logs = super().train_step(data)
        if float(logs["loss"]) < 0:  # Python control flow on a tensor's value
            raise AssertionError("unreachable")
        return logs


def _reads_back_model(jit_compile):
    keras.utils.set_random_seed(5)
    model = _ReadsBack([keras.Input((12,)), layers.Dense(4, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  jit_compile=jit_compile)
    return model


def test_a_read_back_falls_back_to_eager_with_one_warning():
    x, y = _data("mlp")
    model = _reads_back_model("auto")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            model.train_on_batch(x, y)
    messages = [str(w.message) for w in caught if "jit_compile" in str(w.message)]
    assert len(messages) == 1
    assert "reads a tensor's value" in messages[0] and "test_traced_steps.py" in messages[0]
    eager = _reads_back_model(False)
    for _ in range(5):
        eager.train_on_batch(x, y)
    for a, b in zip(eager.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_read_back_is_an_error_with_jit_compile_true():
    x, y = _data("mlp")
    model = _reads_back_model(True)
    with pytest.raises(Untraceable, match=r"reads a tensor's value .*test_traced_steps\.py"):
        model.train_on_batch(x, y)


def test_jit_compile_argument(monkeypatch):
    monkeypatch.delenv("WEBKERAS_JIT_COMPILE", raising=False)
    model = _mlp()
    with pytest.raises(ValueError, match="`jit_compile` must be 'auto', True or False"):
        model.compile(loss="mse", jit_compile="xla")
    with pytest.warns(UserWarning, match="cannot also be True"):
        model.compile(loss="mse", jit_compile=True, run_eagerly=True)
    assert model.jit_compile is False
    model.compile(loss="mse", run_eagerly=True)
    assert model.jit_compile is False
    model.compile(loss="mse")
    assert model.jit_compile is True  # "auto" on the NumPy backend
    monkeypatch.setenv("WEBKERAS_JIT_COMPILE", "0")
    model.compile(loss="mse")
    assert model.jit_compile is False


def test_evaluate_and_predict_replay():
    x, y = _data("cnn")
    models = []
    for jit_compile in (False, True):
        keras.utils.set_random_seed(3)
        model = _cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], jit_compile=jit_compile)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        results = [model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
                   for _ in range(3)]
        models.append((model, results, [model.predict(x, batch_size=16, verbose=0)
                                        for _ in range(3)]))
    (_, eager_eval, eager_pred), (traced, traced_eval, traced_pred) = models
    assert {k for k, *_ in traced._step_plans._signatures} == {"train", "test", "predict"}
    _assert_replayed(traced)
    assert eager_eval == traced_eval
    for a, b in zip(eager_pred, traced_pred):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_host_memory_is_flat_over_1000_replayed_steps():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=True)
    x, y = _data("mlp", 16)
    for _ in range(10):
        model.train_on_batch(x, y)
    _assert_replayed(model)
    tracemalloc.start()
    try:
        for _ in range(20):
            model.train_on_batch(x, y)
        # Collected first: what counts is memory still reachable, not garbage awaiting the
        # cycle collector.
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            model.train_on_batch(x, y)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Under 32 bytes a step: a leak of one small object per step would exceed it.
    # Under 64 B a step: a leaked intermediate would be kilobytes a step (41 KB seen over
    # 1,000 steps after the whole suite, from allocator and interning noise).
    assert after - before < 64 * 1024, (before, after)
