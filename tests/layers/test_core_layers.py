import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test


@pytest.mark.parametrize("activation", [None, "relu", "softmax", "sigmoid", "tanh"])
def test_dense(activation):
    run_layer_test(keras.layers.Dense, {"units": 5, "activation": activation}, (3, 4), (3, 5),
                   expected_num_trainable_weights=2)


def test_dense_without_bias_on_rank3_input():
    run_layer_test(keras.layers.Dense, {"units": 2, "use_bias": False}, (2, 3, 4), (2, 3, 2),
                   expected_num_trainable_weights=1)


def test_flatten_and_activation():
    run_layer_test(keras.layers.Flatten, {}, (2, 3, 4), (2, 12))
    run_layer_test(keras.layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3))


def test_dense_rejects_wrong_feature_size():
    layer = keras.layers.Dense(3)
    layer(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.zeros((2, 5)))


def test_unknown_activation_and_initializer_names():
    with pytest.raises(ValueError, match="activation function identifier: relux"):
        keras.layers.Dense(3, activation="relux")
    with pytest.raises(ValueError, match="initializer identifier: glorot"):
        keras.layers.Dense(3, kernel_initializer="glorot")


def test_sequential_mlp_param_count_and_shapes():
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    assert model.output_shape == (None, 10)
    assert model.count_params() == 101770
    first, second = model.layers[1:]
    assert [w.path for w in model.weights] == [
        f"{first.name}/kernel", f"{first.name}/bias", f"{second.name}/kernel",
        f"{second.name}/bias"]
