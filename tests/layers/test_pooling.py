import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


@pytest.mark.parametrize("cls,kwargs,shape,expected", [
    (L.MaxPooling2D, {}, (1, 4, 4, 2), (1, 2, 2, 2)),
    (L.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 5, 5, 1),
     (1, 3, 3, 1)),
    (L.MaxPool2D, {"data_format": "channels_first"}, (1, 2, 4, 4), (1, 2, 2, 2)),
    (L.AveragePooling2D, {"padding": "same"}, (1, 5, 3, 2), (1, 3, 2, 2)),
    (L.MaxPooling1D, {}, (2, 5, 3), (2, 2, 3)),
    (L.AveragePooling1D, {"pool_size": 3, "strides": 1}, (2, 5, 3), (2, 3, 3)),
    (L.GlobalMaxPooling2D, {}, (2, 3, 3, 4), (2, 4)),
    (L.GlobalAveragePooling2D, {"keepdims": True}, (2, 3, 3, 4), (2, 1, 1, 4)),
    (L.GlobalMaxPooling1D, {}, (2, 3, 4), (2, 4)),
    (L.GlobalAveragePooling1D, {"data_format": "channels_first"}, (2, 3, 4), (2, 3)),
])
def test_pooling(cls, kwargs, shape, expected):
    run_layer_test(cls, kwargs, shape, expected)


def test_max_pool_values():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(L.MaxPooling2D()(x).numpy()[0, :, :, 0], [[5, 7], [13, 15]])
