import numpy as np
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
