import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


@pytest.mark.parametrize("cls,kwargs,shape", [
    (L.Dropout, {"rate": 0.5}, (2, 3)),
    (L.SpatialDropout2D, {"rate": 0.5}, (2, 3, 3, 2)),
    (L.SpatialDropout1D, {"rate": 0.5}, (2, 3, 2)),
    (L.GaussianNoise, {"stddev": 0.5}, (2, 3)),
    (L.GaussianDropout, {"rate": 0.5}, (2, 3)),
])
def test_identity_at_inference(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape, shape)
    x = np.ones(shape, "float32")
    np.testing.assert_array_equal(cls(**kwargs)(x, training=False).numpy(), x)


def test_dropout_in_training_scales_kept_units():
    y = L.Dropout(0.5, seed=1)(np.ones((200, 50), "float32"), training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6


def test_spatial_dropout_drops_whole_channels():
    y = L.SpatialDropout2D(0.5, seed=3)(np.ones((4, 3, 3, 8), "float32"), training=True)
    y = y.numpy()
    assert np.all((y == 0).all(axis=(1, 2)) | (y == 2).all(axis=(1, 2)))


def test_training_flows_through_sequential_and_functional():
    model = keras.Sequential([keras.Input((100,)), L.Dense(100, kernel_initializer="ones"),
                              L.Dropout(0.5)])
    x = np.ones((4, 100), "float32")
    assert (model(x, training=True).numpy() == 0).mean() > 0.2
    assert (model(x).numpy() == 0).mean() == 0
    inputs = keras.Input((100,))
    functional = keras.Model(inputs, L.Dropout(0.5)(inputs))
    assert (functional(x, training=True).numpy() == 0).mean() > 0.2
    assert (functional(x).numpy() == 0).mean() == 0


def test_invalid_rate():
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1. "
                                         "Received: rate=1.5"):
        L.Dropout(1.5)
