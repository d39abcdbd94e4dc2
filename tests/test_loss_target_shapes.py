"""Which targets a compiled loss takes: Keras 3 squeezes a trailing 1 when the ranks differ
by one, then lets the loss broadcast (NumPy rules); only shapes that cannot broadcast are
refused up front, with the output named."""

import numpy as np
import pytest
import webkeras as keras

pytestmark = pytest.mark.usefixtures("numpy_backend")


def sum_of_squares(y_true, y_pred):
    return keras.ops.sum(keras.ops.square(y_pred - y_true), axis=1)


def dense_model(units):
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])


def test_rank_one_targets_broadcast_against_a_wider_output_as_in_keras():
    model = dense_model(4)
    model.compile(optimizer="sgd", loss=sum_of_squares)
    x = np.random.default_rng(0).random((4, 3)).astype("float32")
    y = np.array([0.1, 0.2, 0.3, 0.4], "float32")
    loss = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(loss, np.mean(np.sum((pred - y) ** 2, axis=1)), rtol=1e-5)


def test_targets_that_cannot_broadcast_are_refused_with_a_hint():
    model = dense_model(10)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.zeros((32, 3), "float32")
    labels = np.arange(32) % 10
    with pytest.raises(ValueError, match=r"Targets of shape \(32,\) do not match the shape "
                                         r"\(32, 10\).*sparse_categorical_crossentropy"):
        model.fit(x, labels, verbose=0)


def test_targets_with_another_batch_size_are_refused():
    model = dense_model(2)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="batch size 4 but its targets have 5 samples"):
        model.train_on_batch(np.zeros((4, 3), "float32"), np.zeros((5, 2), "float32"))
