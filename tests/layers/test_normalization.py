import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


def test_batch_normalization_inference_and_training():
    run_layer_test(L.BatchNormalization, {}, (4, 3), (4, 3), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=2)
    run_layer_test(L.BatchNormalization, {"axis": 1, "center": False}, (4, 2, 3), (4, 2, 3),
                   expected_num_trainable_weights=1, expected_num_non_trainable_weights=2,
                   call_kwargs={"training": True}, rtol=1e-4)


def test_batch_normalization_moving_statistics():
    layer = L.BatchNormalization()
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 2)).astype("float32")
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * x.var(0),
                               rtol=1e-5)
    inference = layer(x).numpy()
    expected = (x - layer.moving_mean.numpy()) / np.sqrt(layer.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-5)
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean",
                                               "moving_variance"]


def test_frozen_batch_normalization_runs_in_inference_mode():
    layer = L.BatchNormalization()
    layer.trainable = False
    layer(np.ones((4, 2), "float32") * 5, training=True)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), [0, 0])


def test_layer_normalization():
    run_layer_test(L.LayerNormalization, {}, (2, 3, 4), (2, 3, 4),
                   expected_num_trainable_weights=2, rtol=1e-4)
    run_layer_test(L.LayerNormalization, {"axis": [1, 2], "rms_scaling": True,
                                          "center": False}, (2, 3, 4), (2, 3, 4),
                   expected_num_trainable_weights=1, rtol=1e-4)


def test_group_normalization():
    run_layer_test(L.GroupNormalization, {"groups": 2}, (2, 3, 2, 4), (2, 3, 2, 4),
                   expected_num_trainable_weights=2, rtol=1e-4)
    run_layer_test(L.GroupNormalization, {"groups": 1, "center": False}, (3, 6), (3, 6),
                   expected_num_trainable_weights=1, rtol=1e-4)
    layer = run_layer_test(L.GroupNormalization, {"groups": -1, "axis": 1, "scale": False},
                           (2, 3, 2, 2), (2, 3, 2, 2), expected_num_trainable_weights=1,
                           rtol=1e-4)
    # groups=-1 becomes one group per channel once built, as in Keras.
    assert layer.get_config()["groups"] == 3


def test_group_normalization_values():
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(2, 3, 3, 6)).astype("float32")
    layer = L.GroupNormalization(groups=3, epsilon=1e-3)
    layer(x)
    gamma = np.linspace(0.5, 1.5, 6).astype("float32")
    beta = np.linspace(-1, 1, 6).astype("float32")
    layer.set_weights([gamma, beta])
    grouped = x.reshape(2, 3, 3, 3, 2).astype("float64")
    mean = grouped.mean(axis=(1, 2, 4), keepdims=True)
    variance = grouped.var(axis=(1, 2, 4), keepdims=True)
    expected = ((grouped - mean) / np.sqrt(variance + 1e-3)).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert [w.name for w in layer.weights] == ["gamma", "beta"]


def test_group_normalization_rejects_bad_groups_and_axis():
    with pytest.raises(ValueError, match=r"Number of groups \(4\) must be a multiple"):
        L.GroupNormalization(groups=4)(np.zeros((2, 6), "float32"))
    with pytest.raises(ValueError, match=r"Number of groups \(8\) cannot be more than the "
                                         r"number of channels \(6\)"):
        L.GroupNormalization(groups=8)(np.zeros((2, 6), "float32"))
    with pytest.raises(TypeError, match="`axis` should be an integer. Received: axis=\\[1, 2\\]"):
        L.GroupNormalization(groups=2, axis=[1, 2])
    with pytest.raises(ValueError, match="non-batch axis"):
        L.GroupNormalization(groups=2, axis=0)(np.zeros((2, 6), "float32"))
    with pytest.raises(ValueError, match="Received: groups=0"):
        L.GroupNormalization(groups=0)


def test_group_normalization_keras_file_round_trip(tmp_path):
    inputs = keras.Input(shape=(4, 4, 6))
    outputs = L.GroupNormalization(groups=3, epsilon=1e-4, gamma_initializer="random_normal",
                                   beta_initializer="random_normal")(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(2).uniform(-1, 1, size=(2, 4, 4, 6)).astype("float32")
    model.save(tmp_path / "group_norm.keras")
    loaded = keras.models.load_model(tmp_path / "group_norm.keras")
    layer = loaded.layers[-1]
    assert isinstance(layer, L.GroupNormalization)
    assert (layer.groups, layer.epsilon) == (3, 1e-4)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
