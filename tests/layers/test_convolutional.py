import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


@pytest.mark.parametrize("kwargs,shape,expected", [
    ({"filters": 2, "kernel_size": 2}, (1, 4, 4, 2), (1, 3, 3, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 5, 5, 2),
     (1, 3, 3, 2)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "activation": "tanh"},
     (1, 5, 4, 1), (1, 3, 2, 2)),
    ({"filters": 4, "kernel_size": 2, "groups": 2}, (1, 3, 3, 2), (1, 2, 2, 4)),
    ({"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (1, 2, 4, 3),
     (1, 2, 3, 2)),
])
def test_conv2d(kwargs, shape, expected):
    run_layer_test(L.Conv2D, kwargs, shape, expected, expected_num_trainable_weights=2)


def test_conv1d_including_causal():
    run_layer_test(L.Conv1D, {"filters": 3, "kernel_size": 2}, (2, 5, 2), (2, 4, 3),
                   expected_num_trainable_weights=2)
    run_layer_test(L.Conv1D, {"filters": 2, "kernel_size": 3, "padding": "causal",
                              "dilation_rate": 2}, (1, 6, 2), (1, 6, 2),
                   expected_num_trainable_weights=2)


@pytest.mark.parametrize("kwargs,shape,expected", [
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 3, 3, 2),
     (1, 6, 6, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": 2}, (1, 2, 3, 1), (1, 5, 7, 2)),
    ({"filters": 1, "kernel_size": 2, "strides": 2, "output_padding": 1}, (1, 2, 2, 1),
     (1, 5, 5, 1)),
])
def test_conv2d_transpose(kwargs, shape, expected):
    run_layer_test(L.Conv2DTranspose, kwargs, shape, expected,
                   expected_num_trainable_weights=2)


def test_depthwise_and_separable():
    run_layer_test(L.DepthwiseConv2D, {"kernel_size": 2, "depth_multiplier": 2},
                   (1, 3, 3, 2), (1, 2, 2, 4), expected_num_trainable_weights=2)
    run_layer_test(L.SeparableConv2D, {"filters": 3, "kernel_size": 2, "padding": "same"},
                   (1, 3, 3, 2), (1, 3, 3, 3), expected_num_trainable_weights=3)


def test_conv_rank_error():
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        L.Conv2D(3, 3)(np.zeros((2, 4, 4)))


def test_conv_param_counts_match_keras():
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(6, 5, padding="same"),
                              L.SeparableConv2D(8, 3), L.DepthwiseConv2D(3),
                              L.Conv2DTranspose(4, 3, strides=2)])
    assert [layer.count_params() for layer in model.layers] == [156, 110, 80, 292]
    assert model.output_shape == (None, 49, 49, 4)


def test_1d_and_3d_variants():
    run_layer_test(L.Conv1DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2},
                   (1, 3, 2), (1, 7, 2), expected_num_trainable_weights=2)
    run_layer_test(L.SeparableConv1D, {"filters": 2, "kernel_size": 2}, (1, 4, 2), (1, 3, 2),
                   expected_num_trainable_weights=3)
    run_layer_test(L.DepthwiseConv1D, {"kernel_size": 2}, (1, 4, 2), (1, 3, 2),
                   expected_num_trainable_weights=2)
    run_layer_test(L.Conv3D, {"filters": 2, "kernel_size": 2}, (1, 3, 3, 3, 1),
                   (1, 2, 2, 2, 2), expected_num_trainable_weights=2)
