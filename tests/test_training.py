"""compile / fit / evaluate / predict through the public API, and the errors on bad input."""

import io
import contextlib

import numpy as np
import pytest

import webkeras as keras


def make_mlp():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype="float64")
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.normal(0, 0.5, (n, 4))
    return x, y


def test_fit_learns_and_history_has_keras_keys():
    x, y = blobs()
    model = make_mlp()
    history = model.fit(x, y, epochs=20, batch_size=32, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(20))
    assert history.params == {"verbose": 0, "epochs": 20, "steps": 8}
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(accuracy)
    probabilities = model.predict(x[:7], verbose=0)
    assert probabilities.shape == (7, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_acc_name_is_kept_and_sgd_by_class():
    x, y = blobs(64)
    model = make_mlp()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "acc"}
    assert model.metrics_names == ["loss", "acc"]


def test_progress_bar_matches_keras_format():
    x, y = blobs(64)
    model = make_mlp()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.fit(x, y, epochs=2, batch_size=32, verbose=1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("2/2 ━━━━━━━━━━━━━━━━━━━━ ")
    assert " - loss: " in lines[1] and " - accuracy: " in lines[1]
    assert lines[2] == "Epoch 2/2"


def test_callbacks_see_batches_and_can_stop_training():
    x, y = blobs(320)
    model = make_mlp()
    seen = []

    class StopAfterThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, sorted(logs)))
            if batch == 2:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[StopAfterThree()])
    assert [b for b, _ in seen] == [0, 1, 2]
    assert seen[0][1] == ["accuracy", "loss"]
    assert history.epoch == [0]


def test_custom_training_loop_with_gradient_tape():
    x, y = blobs(128)
    model = make_mlp()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    first = None
    for _ in range(30):
        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        first = float(loss) if first is None else first
    assert float(loss) < first * 0.5


def test_train_on_batch_and_weights_round_trip():
    x, y = blobs(32)
    model = make_mlp()
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 16), (16,), (16, 3), (3,)]
    assert model.count_params() == 4 * 16 + 16 + 16 * 3 + 3
    clone = make_mlp()
    clone.set_weights(weights)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


# -- bad input ---------------------------------------------------------------------------------
def test_mismatched_lengths_name_both_sizes():
    model = make_mlp()
    with pytest.raises(ValueError, match=r"x sizes: \[10\], y sizes: \[9\]"):
        model.fit(np.zeros((10, 4)), np.zeros(9), verbose=0)


def test_wrong_feature_count_names_expected_and_received():
    model = make_mlp()
    expected = r"expected axis -1 of input shape to have value 4.*\(8, 5\)"
    with pytest.raises(ValueError, match=expected):
        model.fit(np.zeros((8, 5)), np.zeros(8), verbose=0)


def test_nan_and_non_numeric_data_are_rejected():
    model = make_mlp()
    x = np.zeros((8, 4))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        model.fit(x, np.zeros(8), verbose=0)
    with pytest.raises(ValueError, match="hold numbers"):
        model.fit(np.array([["a"] * 4] * 8), np.zeros(8), verbose=0)


def test_unknown_optimizer_and_loss_names():
    model = make_mlp()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'adamm'"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="Unknown loss: received 'msee'"):
        model.compile(optimizer="adam", loss="msee")


def test_fit_before_compile():
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="must call `compile\\(\\)` before calling `fit\\(\\)`"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 2)))


def test_case_insensitive_optimizer_names():
    model = make_mlp()
    model.compile(optimizer="Adam", loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    model.compile(optimizer="SGD", loss="sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
