"""Legacy `.h5` files written by tf.keras 2 (tests/reference/tfkeras2/, from
make_converter_reference.py) load in webkeras: architecture, weights, compile config.

Real Keras 3.15 loads none of these six with `compile=True` ("Could not deserialize
'keras.metrics.mse'") and four not at all (`time_major`, Conv2DTranspose's `groups`, a nested
model's node indices); webkeras reads them all, and follows Keras 3's legacy
`load_weights(by_name=..., skip_mismatch=...)` rules and wording.
"""

import json
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import webkeras as keras
from interop import max_error, predict, read_reference
from webkeras import layers

REFERENCE = Path(__file__).resolve().parent / "reference" / "tfkeras2"
NAMES = ("mlp", "cnn", "embed_lstm", "gru_rnn", "functional", "deconv")
TOL = 1e-5

def reference(name):
    return read_reference(REFERENCE / f"{name}.npz")


def mlp():
    return keras.Sequential([
        keras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
        layers.Dense(3, activation="softmax")])


def cnn():
    return keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(2)])


def embed_lstm():
    return keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(20, 4), layers.LSTM(5),
        layers.Dense(1)])


def gru_rnn():
    return keras.Sequential([
        keras.Input((5, 3)), layers.GRU(4, return_sequences=True), layers.SimpleRNN(3),
        layers.Dense(2)])


def functional():
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, layers.Dense(4, activation="tanh")(inner_in))
    a, b = keras.Input((6,)), keras.Input((6,))
    shared = layers.Dense(6, activation="relu")
    ha, hb = shared(a), shared(b)
    out1 = layers.Dense(2)(layers.Concatenate()([inner(ha), hb]))
    out2 = layers.Dense(1, activation="sigmoid")(layers.Add()([ha, hb]))
    return keras.Model([a, b], [out1, out2])


def deconv():
    return keras.Sequential([
        keras.Input((4, 4, 2)), layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
        layers.UpSampling2D(2), layers.Conv2D(1, 1)])


BUILDERS = {"mlp": mlp, "cnn": cnn, "embed_lstm": embed_lstm, "gru_rnn": gru_rnn,
            "functional": functional, "deconv": deconv}


def training_config(name):
    with h5py.File(REFERENCE / f"{name}.h5", "r") as f:
        return json.loads(f.attrs["training_config"])


@pytest.mark.parametrize("name", NAMES)
def test_load_model_predicts_and_is_compiled(name):
    # tf.keras 2 keeps Adam's slots as (m, v) per variable without the learning rate, so
    # the state does not fit Keras 3's optimizer: like Keras 3, warn and start it fresh.
    with pytest.warns(UserWarning, match="optimizer starts fresh"):
        model = keras.models.load_model(REFERENCE / f"{name}.h5")
    xs, ys = reference(name)
    assert max_error(predict(model, xs), ys) <= TOL
    saved = training_config(name)
    assert saved["optimizer_config"]["class_name"] == "Custom>Adam"
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    optimizer = model.optimizer.get_config()
    for key in ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"):
        assert optimizer[key] == pytest.approx(saved["optimizer_config"]["config"][key]), key
    assert model.loss == saved["loss"] == "mse"
    assert int(model.optimizer.iterations) == 0


def test_restored_model_trains():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.models.load_model(REFERENCE / "functional.h5")
    xs, ys = reference("functional")
    before = [w.copy() for w in model.get_weights()]
    targets = [y + 1.0 for y in ys]
    losses = model.train_on_batch(xs, targets)
    assert np.all(np.isfinite(losses))
    assert int(model.optimizer.iterations) == 1
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_load_model_without_compile():
    model = keras.models.load_model(REFERENCE / "cnn.h5", compile=False)
    assert not model.compiled
    xs, ys = reference("cnn")
    assert max_error(predict(model, xs), ys) <= TOL


@pytest.mark.parametrize("name", NAMES)
def test_load_weights_into_a_fresh_model(name):
    model = BUILDERS[name]()
    xs, ys = reference(name)
    assert max_error(predict(model, xs), ys) > 1e-2
    model.load_weights(REFERENCE / f"{name}_weights.h5")
    assert max_error(predict(model, xs), ys) <= TOL


def _changed_mlp(hidden=12):
    # tf.keras 2 named the file's layers "dense" and "dense_1"; the hidden layer is narrower
    # here, so its kernel and bias and the next kernel differ in shape; the last bias fits.
    return keras.Sequential([
        keras.Input((8,)), layers.Dense(hidden, activation="relu", name="dense"),
        layers.Dropout(0.3), layers.Dense(3, activation="softmax", name="dense_1"),
        layers.Dense(2, name="extra")])


def test_by_name_with_skip_mismatch_skips_each_mismatched_weight():
    path = REFERENCE / "mlp_weights.h5"
    model = _changed_mlp()
    before = model.get_weights()
    with pytest.warns(UserWarning) as caught:
        model.load_weights(path, by_name=True, skip_mismatch=True)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    assert messages[0].startswith("Skipping loading weights for layer #0 (named dense) due to "
                                  "mismatch in shape for weight dense/kernel. Weight expects "
                                  "shape (8, 12). Received saved weight with shape (8, 16)")
    assert "layer #2 (named dense_1)" in messages[2] and "(12, 3)" in messages[2]
    after = model.get_weights()
    with h5py.File(path, "r") as f:
        saved_bias = f["dense_1/dense_1/bias:0"][()]
    np.testing.assert_array_equal(after[3], saved_bias)
    # Skipped weights, and the layer the file does not name, keep their values.
    for i in (0, 1, 2, 4, 5):
        np.testing.assert_array_equal(after[i], before[i])


def test_by_name_matches_by_name_not_order():
    model = keras.Sequential([
        keras.Input((8,)), layers.Dense(8, name="extra"), layers.Dense(16, name="dense")])
    extra = model.get_layer("extra").get_weights()
    model.load_weights(REFERENCE / "mlp_weights.h5", by_name=True)
    for a, b in zip(extra, model.get_layer("extra").get_weights()):
        np.testing.assert_array_equal(a, b)
    with h5py.File(REFERENCE / "mlp_weights.h5", "r") as f:
        np.testing.assert_array_equal(model.get_layer("dense").get_weights()[0],
                                      f["dense/dense/kernel:0"][()])


def test_mismatches_without_skip_are_errors_and_change_nothing():
    path = REFERENCE / "mlp_weights.h5"
    model = _changed_mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"^Shape mismatch in layer #0 \(named dense\) for "
                                         r"weight dense/kernel\. Weight expects shape \(8, 12\)"):
        model.load_weights(path, by_name=True)
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights from file. "
                                         "Model expected 3 layers, found 2 saved layers"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_by_name_weight_count_mismatch():
    path = REFERENCE / "mlp_weights.h5"
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, name="dense"),
                              layers.Dense(3, use_bias=False, name="dense_1")])
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #2 \(named "
                                         r"dense_1\)\. Layer expects 1 weight\(s\)\. "
                                         r"Received 2 saved weight\(s\)"):
        model.load_weights(path, by_name=True)
    with pytest.warns(UserWarning, match=r"Skipping loading of weights for layer #2 \(named "
                                         r"dense_1\) due to mismatch in number of weights"):
        model.load_weights(path, by_name=True, skip_mismatch=True)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(model.get_layer("dense").get_weights()[0],
                                      f["dense/dense/kernel:0"][()])


@pytest.mark.parametrize("filename", ["cnn.h5", "cnn_weights.h5"])
def test_truncated_file_is_a_clear_error(tmp_path, filename):
    path = tmp_path / filename
    data = (REFERENCE / filename).read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="is not a readable HDF5 file \\(truncated"):
        if filename.endswith("_weights.h5"):
            cnn().load_weights(path)
        else:
            keras.models.load_model(path)


def test_weights_file_is_not_a_model(tmp_path):
    path = tmp_path / "weights.h5"
    shutil.copy(REFERENCE / "mlp_weights.h5", path)
    with pytest.raises(ValueError, match="holds weights only"):
        keras.models.load_model(path)
