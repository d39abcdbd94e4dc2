"""Keras 3's state hooks through `model.save` / `keras.models.load_model`:
`save_own_variables` / `load_own_variables` (a dict-like store per layer) and
`save_assets` / `load_assets` (files under the archive's `assets/` folder), as the
customizing-saving guide uses them."""

import zipfile

import numpy as np
import pytest
import webkeras as keras
from webkeras.saving import pure_h5, weights_h5

pytestmark = pytest.mark.usefixtures("numpy_backend")


@keras.saving.register_keras_serializable(package="StateHooksTest")
class ScaledDense(keras.layers.Dense):
    """Keeps a NumPy scale (not a variable) that only its own hooks save and load."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = np.ones((units,), "float32")

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["scale"] = self.scale

    def load_own_variables(self, store):
        self.scale = store["scale"]
        self.kernel.assign(store["0"])
        self.bias.assign(store["1"])

    def call(self, inputs):
        return super().call(inputs) * self.scale


@keras.saving.register_keras_serializable(package="StateHooksTest")
class Vocabulary(keras.layers.Layer):
    def __init__(self, words=None, **kwargs):
        super().__init__(**kwargs)
        self.words = words

    def call(self, inputs):
        return inputs

    def save_assets(self, dir_path):
        with open(f"{dir_path}/words.txt", "w") as f:
            f.write("\n".join(self.words))

    def load_assets(self, dir_path):
        with open(f"{dir_path}/words.txt") as f:
            self.words = f.read().split("\n")


@pytest.mark.parametrize("h5_library", ["h5py", "pure_h5"])
def test_custom_own_variables_hooks_save_and_load_extra_state(tmp_path, monkeypatch,
                                                               h5_library):
    if h5_library == "pure_h5":
        # What the tab has: no h5py build ships with Pyodide.
        monkeypatch.setattr(weights_h5, "_h5py", lambda: pure_h5)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), ScaledDense(3)])
    model.layers[0].scale = np.array([1.0, 2.0, 3.0], "float32")
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    path = tmp_path / "scaled.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        weights = zf.read("model.weights.h5")
    (tmp_path / "w.h5").write_bytes(weights)
    with weights_h5._h5py().File(tmp_path / "w.h5", "r") as f:
        assert sorted(f["layers/scaled_dense/vars"].keys()) == ["0", "1", "scale"]

    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.layers[0].scale, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


def test_default_load_own_variables_refuses_another_variable_count():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    store = {"0": np.zeros((3, 2), "float32")}
    with pytest.raises(ValueError, match="Layer 'dense.*' expected 2 variables, but "
                                         "received 1 variables during loading"):
        layer.load_own_variables(store)


def test_default_hooks_round_trip_through_a_dict():
    source, target = keras.layers.Dense(2), keras.layers.Dense(2)
    source.build((None, 3))
    target.build((None, 3))
    store = {}
    source.save_own_variables(store)
    assert sorted(store) == ["0", "1"]
    target.load_own_variables(store)
    np.testing.assert_array_equal(target.kernel.numpy(), source.kernel.numpy())


def test_assets_are_saved_under_the_layer_path_and_loaded_back(tmp_path):
    model = keras.Sequential([keras.Input((2,)), Vocabulary(["a", "b", "c"])])
    path = tmp_path / "vocab.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("assets/layers/vocabulary/words.txt") == b"a\nb\nc"
    restored = keras.models.load_model(path)
    assert restored.layers[0].words == ["a", "b", "c"]

