import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


@pytest.mark.parametrize("cls", [L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum,
                                 L.Minimum])
def test_elementwise_merges(cls):
    run_layer_test(cls, {}, [(2, 3), (2, 3)], (2, 3))


def test_merge_broadcasting_and_three_inputs():
    run_layer_test(L.Add, {}, [(2, 3, 4), (2, 1, 4), (2, 3, 4)], (2, 3, 4))


def test_concatenate():
    run_layer_test(L.Concatenate, {}, [(2, 3), (2, 5)], (2, 8))
    run_layer_test(L.Concatenate, {"axis": 1}, [(2, 3, 4), (2, 1, 4)], (2, 4, 4))


def test_dot():
    run_layer_test(L.Dot, {"axes": 1}, [(2, 3), (2, 3)], (2, 1))
    run_layer_test(L.Dot, {"axes": (2, 2)}, [(2, 3, 4), (2, 5, 4)], (2, 3, 5))
    run_layer_test(L.Dot, {"axes": 1, "normalize": True}, [(2, 3), (2, 3)], (2, 1))


def test_functional_forms_and_values():
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])
    np.testing.assert_allclose(L.add([a, b]).numpy(), [[4, 7]])
    np.testing.assert_allclose(L.subtract([a, b]).numpy(), [[-2, -3]])
    np.testing.assert_allclose(L.average([a, b]).numpy(), [[2, 3.5]])
    np.testing.assert_allclose(L.concatenate([a, b]).numpy(), [[1, 2, 3, 5]])
    np.testing.assert_allclose(L.dot([a, b], axes=1).numpy(), [[13]])


def test_incompatible_shapes():
    with pytest.raises(ValueError, match=r"Inputs have incompatible shapes. Received shapes "
                                         r"\(3,\) and \(4,\)"):
        L.Add()([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the "
                                         "concatenation axis"):
        L.Concatenate()([keras.Input((3, 2)), keras.Input((4, 3))])
    with pytest.raises(ValueError, match="should be called on exactly 2 inputs"):
        L.Subtract()([keras.Input((3,))] * 3)


def test_lambda_layer_and_safe_mode():
    layer = L.Lambda(lambda x: x * 2.0)
    np.testing.assert_allclose(layer(np.ones((1, 2))).numpy(), [[2, 2]])
    config = layer.get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        L.Lambda.from_config(config)
    clone = L.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 2))).numpy(), [[2, 2]])
    assert L.Lambda(lambda x: x[:, :1], output_shape=(1,))(keras.Input((3,))).shape == (None, 1)


def double_plus_one(x):
    return x * 2.0 + 1.0


def test_lambda_with_named_function_round_trips_given_the_function():
    # As in Keras, a function from outside Keras is found through custom objects, never by
    # importing the module the config names.
    with keras.saving.custom_object_scope({"double_plus_one": double_plus_one}):
        run_layer_test(L.Lambda, {"function": double_plus_one}, (2, 3), (2, 3))


def test_masking_layer():
    run_layer_test(L.Masking, {"mask_value": 0.0}, (2, 3, 2), (2, 3, 2))
    x = np.array([[[1.0, 2.0], [0.0, 0.0]]], "float32")
    mask = L.Masking().compute_mask(x, None).numpy()
    assert mask.tolist() == [[True, False]]
