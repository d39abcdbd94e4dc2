import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


def test_reshape():
    run_layer_test(L.Reshape, {"target_shape": (2, 6)}, (2, 3, 4), (2, 2, 6))
    run_layer_test(L.Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), (2, 6, 2))


def test_reshape_size_mismatch():
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged"):
        L.Reshape((5,))(keras.Input((2, 3)))


def test_permute_and_repeat_vector():
    run_layer_test(L.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3))
    run_layer_test(L.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4))


def test_zero_padding_cropping_upsampling_2d():
    run_layer_test(L.ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, (1, 2, 3, 2), (1, 3, 6, 2))
    run_layer_test(L.ZeroPadding2D, {"padding": 1, "data_format": "channels_first"},
                   (1, 2, 3, 2), (1, 2, 5, 4))
    run_layer_test(L.Cropping2D, {"cropping": ((1, 0), (0, 1))}, (1, 3, 4, 2), (1, 2, 3, 2))
    run_layer_test(L.UpSampling2D, {"size": (2, 3)}, (1, 2, 2, 2), (1, 4, 6, 2))


def test_1d_variants():
    run_layer_test(L.ZeroPadding1D, {"padding": 2}, (2, 3, 2), (2, 7, 2))
    run_layer_test(L.Cropping1D, {"cropping": (1, 1)}, (2, 4, 2), (2, 2, 2))
    run_layer_test(L.UpSampling1D, {"size": 2}, (2, 3, 2), (2, 6, 2))


def test_upsampling_values():
    x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    y = L.UpSampling2D()(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])


def test_bilinear_upsampling():
    run_layer_test(L.UpSampling2D, {"size": (3, 2), "interpolation": "bilinear"},
                   (2, 2, 3, 2), (2, 6, 6, 2))
    run_layer_test(L.UpSampling2D, {"size": 2, "interpolation": "bilinear",
                                    "data_format": "channels_first"},
                   (1, 2, 3, 2), (1, 2, 6, 4))


def test_bilinear_upsampling_values():
    # Half-pixel centres: output row o samples input row (o + 0.5) / 2 - 0.5, clamped.
    x = np.array([0.0, 4.0, 8.0], "float32").reshape(1, 3, 1, 1)
    y = L.UpSampling2D((2, 1), interpolation="bilinear")(x).numpy().ravel()
    np.testing.assert_allclose(y, [0, 1, 3, 5, 7, 8], rtol=1e-6)
    y = L.UpSampling2D((1, 1), interpolation="bilinear")(x).numpy()
    np.testing.assert_array_equal(y, x)


def test_upsampling_rejects_unsupported_interpolation():
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'.*'bilinear'"):
        L.UpSampling2D(interpolation="bicubic")


def test_bilinear_upsampling_keras_file_round_trip(tmp_path):
    inputs = keras.Input(shape=(2, 3, 4))
    outputs = L.UpSampling2D((2, 3), data_format="channels_first",
                             interpolation="bilinear")(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(3).uniform(-1, 1, size=(2, 2, 3, 4)).astype("float32")
    model.save(tmp_path / "upsampling.keras")
    loaded = keras.models.load_model(tmp_path / "upsampling.keras")
    layer = loaded.layers[-1]
    assert (layer.size, layer.data_format, layer.interpolation) == \
        ((2, 3), "channels_first", "bilinear")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
