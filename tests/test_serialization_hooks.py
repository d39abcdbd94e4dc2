"""Keras 3's serialization hooks through the public API: `get_build_config` /
`build_from_config`, `get_compile_config` / `compile_from_config`, custom functions found
through `custom_objects` or `register_keras_serializable`, and wrappers (RNN, Bidirectional,
TimeDistributed) that hand `custom_objects` to the layer or cell they hold."""

import json
import zipfile

import numpy as np
import pytest
import webkeras as keras


@pytest.fixture(autouse=True)
def numpy_backend():
    keras.backend.set_backend("numpy")
    keras.utils.set_random_seed(7)


def round_trip(model, tmp_path, **load_kwargs):
    path = tmp_path / "model.keras"
    model.save(path)
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    return keras.models.load_model(path, **load_kwargs), config


def assert_same_predictions(model, restored, x):
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


# The Keras 3 guide's examples (serialization_and_saving), unchanged but for the package.
@keras.saving.register_keras_serializable(package="HooksTest")
class LayerWithCustomBuild(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return dict(units=self.units, **super().get_config())

    def build(self, input_shape, layer_init):
        super().build(input_shape)
        self._input_shape = input_shape
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=layer_init)
        self.b = self.add_weight(shape=(self.units,), initializer=layer_init)
        self.layer_init = layer_init

    def get_build_config(self):
        return {"layer_init": self.layer_init, "input_shape": self._input_shape}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["layer_init"])


@keras.saving.register_keras_serializable(package="HooksTest")
class ModelWithCustomCompile(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(8)

    def call(self, inputs):
        return self.dense(inputs)

    def compile(self, optimizer, loss_fn):
        super().compile(optimizer)
        self.model_optimizer = optimizer
        self.loss_fn = loss_fn

    def get_compile_config(self):
        return {"model_optimizer": self.model_optimizer, "loss_fn": self.loss_fn}

    def compile_from_config(self, config):
        optimizer = keras.utils.deserialize_keras_object(config["model_optimizer"])
        loss_fn = keras.utils.deserialize_keras_object(config["loss_fn"])
        self.compile(optimizer=optimizer, loss_fn=loss_fn)


def test_custom_build_config_round_trips(tmp_path):
    layer = LayerWithCustomBuild(units=16)
    layer.build(input_shape=(8,), layer_init="random_normal")
    model = keras.Sequential([keras.Input((8,)), layer])
    restored, config = round_trip(model, tmp_path)
    saved = config["config"]["layers"][1]["build_config"]
    assert saved == {"layer_init": "random_normal", "input_shape": [8]}
    assert restored.layers[0].layer_init == "random_normal"
    assert_same_predictions(model, restored, np.random.rand(4, 8).astype("float32"))


def test_default_build_config_is_the_input_shape():
    layer = keras.layers.Dense(3)
    assert layer.get_build_config() is None
    layer(np.zeros((2, 5), "float32"))
    assert layer.get_build_config() == {"input_shape": (2, 5)}
    fresh = keras.layers.Dense(3)
    fresh.build_from_config({"input_shape": [None, 5]})
    assert fresh.built and fresh.kernel.shape == (5, 3)


def test_custom_compile_config_round_trips(tmp_path):
    model = ModelWithCustomCompile()
    model.compile(optimizer="SGD", loss_fn=keras.losses.MeanSquaredError())
    model(np.zeros((2, 4), "float32"))
    restored, config = round_trip(model, tmp_path)
    assert config["compile_config"]["model_optimizer"] == "SGD"
    assert config["compile_config"]["loss_fn"]["class_name"] == "MeanSquaredError"
    assert restored.model_optimizer == "SGD"
    assert isinstance(restored.loss_fn, keras.losses.MeanSquaredError)
    assert isinstance(restored.optimizer, keras.optimizers.SGD)


def test_custom_compile_without_compile_from_config_warns(tmp_path):
    class OnlyCustomCompile(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

        def compile(self, learning_rate):
            super().compile(keras.optimizers.Adam(learning_rate), loss="mse")

    model = OnlyCustomCompile()
    model.compile(0.01)
    model(np.zeros((1, 3), "float32"))
    with pytest.warns(UserWarning, match="compile_from_config"):
        restored, _ = round_trip(model, tmp_path,
                                 custom_objects={"OnlyCustomCompile": OnlyCustomCompile})
    assert not restored.compiled


def scaled_relu(x):
    return keras.ops.relu(x) * 2.0


def half_mse(y_true, y_pred):
    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1) / 2.0


@keras.saving.register_keras_serializable(package="HooksTest")
def registered_tanh(x):
    return keras.ops.tanh(x) * 0.5


def function_model():
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(4, activation=scaled_relu),
                              keras.layers.Dense(2, activation=registered_tanh)])
    model.compile("adam", loss=half_mse, metrics=[half_mse])
    x, y = np.random.rand(16, 3).astype("float32"), np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    return model, x, y


def test_custom_functions_load_through_custom_objects_and_registry(tmp_path):
    model, x, y = function_model()
    restored, config = round_trip(
        model, tmp_path, custom_objects={"scaled_relu": scaled_relu, "half_mse": half_mse})
    # Written as Keras 3 writes functions: the registered name under `config`.
    first, second = (layer["config"]["activation"] for layer in config["config"]["layers"][1:])
    assert first == {"module": "builtins", "class_name": "function", "config": "scaled_relu",
                     "registered_name": "function"}
    assert second["config"] == "HooksTest>registered_tanh"
    assert config["compile_config"]["loss"]["config"] == "half_mse"
    assert restored.layers[0].activation is scaled_relu
    assert restored.layers[1].activation is registered_tanh
    assert_same_predictions(model, restored, x)
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0),
                               model.evaluate(x, y, verbose=0), rtol=1e-5)
    # A scope works as well as the argument.
    with keras.saving.custom_object_scope({"scaled_relu": scaled_relu, "half_mse": half_mse}):
        scoped = keras.models.load_model(tmp_path / "model.keras")
    assert scoped.layers[0].activation is scaled_relu


def test_unknown_function_names_the_fix(tmp_path):
    model, _, _ = function_model()
    model.save(tmp_path / "model.keras")
    with pytest.raises(keras.saving.ModelFileError, match="custom_objects") as info:
        keras.models.load_model(tmp_path / "model.keras")
    assert "scaled_relu" in str(info.value)


class CustomCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        self.recurrent = self.add_weight(shape=(self.units, self.units))

    def call(self, inputs, states):
        h = keras.ops.tanh(keras.ops.matmul(inputs, self.kernel)
                           + keras.ops.matmul(states[0], self.recurrent))
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class CustomDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.mark.parametrize("wrap", ["rnn", "bidirectional", "time_distributed"])
def test_wrappers_pass_custom_objects_to_their_inner_layer(tmp_path, wrap):
    layer = {"rnn": lambda: keras.layers.RNN(CustomCell(4)),
             "bidirectional": lambda: keras.layers.Bidirectional(keras.layers.RNN(
                 CustomCell(4), return_sequences=True)),
             "time_distributed": lambda: keras.layers.TimeDistributed(CustomDense(3))}[wrap]()
    model = keras.Sequential([keras.Input((5, 2)), layer])
    x = np.random.rand(3, 5, 2).astype("float32")
    custom = {"CustomCell": CustomCell, "CustomDense": CustomDense}
    restored, _ = round_trip(model, tmp_path, custom_objects=custom)
    assert_same_predictions(model, restored, x)
    # Unregistered and not passed: the error names the class and the fix.
    with pytest.raises(keras.saving.UnknownObjectError, match="custom_objects"):
        keras.models.load_model(tmp_path / "model.keras")


def test_serialize_keras_object_round_trips():
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    config = keras.saving.serialize_keras_object(optimizer)
    assert config["class_name"] == "SGD" and config["module"] == "keras.optimizers"
    again = keras.saving.deserialize_keras_object(config)
    assert isinstance(again, keras.optimizers.SGD)
    assert np.isclose(float(np.asarray(again.learning_rate)), 0.5)
    layer = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.layers.Dense(3, activation="relu")))
    assert isinstance(layer, keras.layers.Dense) and layer.units == 3
    fn = keras.saving.serialize_keras_object(registered_tanh)
    assert keras.utils.deserialize_keras_object(fn) is registered_tanh
    assert keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.activations.relu)) is keras.activations.relu


def test_registry_is_published_in_keras_utils_too():
    for name in ("register_keras_serializable", "get_registered_name",
                 "get_registered_object", "get_custom_objects", "custom_object_scope",
                 "CustomObjectScope"):
        assert getattr(keras.utils, name) is getattr(keras.saving, name)
    assert keras.utils.get_registered_name(LayerWithCustomBuild) == "HooksTest>LayerWithCustomBuild"


@pytest.mark.parametrize("jit_compile, written, traced", [
    ("auto", "auto", True), (False, False, False), (True, True, True)])
def test_compile_config_keeps_jit_compile(tmp_path, jit_compile, written, traced):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
    restored, config = round_trip(model, tmp_path)
    assert config["compile_config"]["jit_compile"] == written
    assert restored.jit_compile is traced
    # A file's True is not strict here: a step that cannot be traced still runs, eagerly.
    restored.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
