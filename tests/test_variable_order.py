"""Where a Variable set as a layer attribute goes among the layer's weights, and what Dense and
Embedding write into a weights file — as Keras 3 does (checked against Keras 3.15: a Dense
subclass with a Variable made in __init__ lists ['my_variable', 'l/kernel', 'l/bias'], and its
`save_own_variables` writes '0' kernel and '1' bias only)."""

import numpy as np
import pytest
import webkeras as keras


class DenseWithExtra(keras.layers.Dense):
    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = keras.Variable(np.zeros((units,)), name="my_variable",
                                          dtype="float32")


def test_an_attribute_variable_takes_its_place_when_set():
    layer = DenseWithExtra(1, name="l")
    layer.build((None, 10))
    assert [v.path for v in layer.weights] == ["my_variable", "l/kernel", "l/bias"]
    store = {}
    layer.save_own_variables(store)
    assert sorted((key, value.shape) for key, value in store.items()) == [
        ("0", (10, 1)), ("1", (1,))]


def test_dense_and_embedding_files_hold_their_own_weights_only(tmp_path):
    inputs = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(10, 3, name="embedding")(inputs)
    outputs = DenseWithExtra(2, name="dense")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.layers[-1].my_variable.assign(np.ones(2, "float32"))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras",
                                     custom_objects={"DenseWithExtra": DenseWithExtra})
    x = np.arange(8).reshape(2, 4) % 10
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # As in Keras 3, the extra variable is not in Dense's file entry: it keeps its initial value.
    np.testing.assert_array_equal(loaded.layers[-1].my_variable.numpy(), np.zeros(2))


def test_a_dense_entry_of_another_size_is_refused():
    layer = keras.layers.Dense(2, name="d")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="Layer 'd' expected 2 variables, but received 3"):
        layer.load_own_variables({"0": np.zeros((3, 2)), "1": np.zeros(2), "2": np.zeros(2)})
