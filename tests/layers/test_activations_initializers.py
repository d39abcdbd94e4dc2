"""keras.activations by name, initializers, regularizers and constraints."""

import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

NAMES = ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish",
         "silu", "gelu", "leaky_relu", "relu6", "hard_sigmoid", "exponential", "linear"]


@pytest.mark.parametrize("name", NAMES)
def test_activation_by_name(name):
    fn = keras.activations.get(name)
    assert keras.activations.serialize(fn) in (name, "silu")
    run_layer_test(keras.layers.Activation, {"activation": name}, (2, 5), (2, 5), rtol=1e-4)


def test_activation_values():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 7.0], "float32")
    a = keras.activations
    np.testing.assert_allclose(a.relu6(x).numpy(), np.clip(x, 0, 6))
    np.testing.assert_allclose(a.hard_sigmoid(x).numpy(), np.clip(x / 6 + 0.5, 0, 1),
                               rtol=1e-6)
    np.testing.assert_allclose(a.leaky_relu(x).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(a.softplus(x).numpy(), np.log1p(np.exp(x)), rtol=1e-6)


def test_activation_layers():
    run_layer_test(keras.layers.Softmax, {}, (2, 4), (2, 4))
    run_layer_test(keras.layers.ReLU, {"max_value": 0.5}, (2, 4), (2, 4))
    run_layer_test(keras.layers.LeakyReLU, {"negative_slope": 0.1}, (2, 4), (2, 4))
    run_layer_test(keras.layers.ELU, {}, (2, 4), (2, 4))


def test_unknown_names():
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        keras.activations.get("nope")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: nope"):
        keras.initializers.get("nope")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: l3"):
        keras.regularizers.get("l3")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: foo"):
        keras.constraints.get("foo")


@pytest.mark.parametrize("name", ["orthogonal", "identity", "lecun_uniform", "lecun_normal",
                                  "truncated_normal", "glorot_normal", "he_uniform",
                                  "random_uniform", "variance_scaling"])
def test_initializers_by_name(name):
    init = keras.initializers.get(name)
    value = np.asarray(init((6, 4)))
    assert value.shape == (6, 4) and np.isfinite(value).all()
    config = keras.initializers.serialize(init)
    assert keras.initializers.get(config).get_config() == init.get_config()


def test_orthogonal_and_identity():
    q = np.asarray(keras.initializers.Orthogonal(seed=1)((6, 4)))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(np.asarray(keras.initializers.Identity(2.0)((3, 3))),
                                  2 * np.eye(3))
    lecun = np.asarray(keras.initializers.LecunUniform(seed=0)((400, 50)))
    assert np.abs(lecun).max() <= np.sqrt(3 / 400) + 1e-6


def test_regularizers():
    w = keras.ops.convert_to_tensor(np.array([[1.0, -2.0]]))
    assert float(keras.regularizers.L1(0.1)(w)) == pytest.approx(0.3)
    assert float(keras.regularizers.L2(0.1)(w)) == pytest.approx(0.5)
    assert float(keras.regularizers.l1_l2()(w)) == pytest.approx(0.03 + 0.05)
    layer = keras.layers.Dense(2, kernel_regularizer="l2", bias_regularizer="l1")
    layer(np.ones((1, 3)))
    assert len(layer.losses) == 2
    assert keras.regularizers.get(keras.regularizers.serialize(keras.regularizers.L2(0.3))).l2 \
        == 0.3


def test_constraints():
    w = keras.ops.convert_to_tensor(np.array([[3.0, -0.1], [4.0, 0.2]]))
    np.testing.assert_allclose(np.sqrt((keras.constraints.MaxNorm(2.0)(w).numpy() ** 2)
                                       .sum(0)), [2.0, np.sqrt(0.05)], rtol=1e-5)
    assert (keras.constraints.NonNeg()(w).numpy() >= 0).all()
    np.testing.assert_allclose((keras.constraints.UnitNorm()(w).numpy() ** 2).sum(0), 1,
                               rtol=1e-5)
    mm = keras.constraints.MinMaxNorm(0.5, 1.0)(w).numpy()
    np.testing.assert_allclose(np.sqrt((mm ** 2).sum(0)), [1.0, 0.5], rtol=1e-5)
