"""Gaps the Keras guides hit (issue #14), each checked through the public API."""

import os

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend as K
from webkeras import layers


def _small_model():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


# -- optimizer.learning_rate is a Variable ---------------------------------------------------
def test_learning_rate_assign_reaches_the_train_step():
    model = _small_model()
    before = model.get_weights()
    model.optimizer.learning_rate.assign(0.0)
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert float(model.optimizer.learning_rate) == 0.0


def test_tf_keras_2_set_value_on_lr():
    optimizer = keras.optimizers.Adam(0.1)
    K.set_value(optimizer.lr, 0.002)
    assert float(K.get_value(optimizer.learning_rate)) == pytest.approx(0.002)
    assert optimizer.lr is optimizer.learning_rate
    optimizer.learning_rate = 0.5
    assert optimizer.learning_rate.numpy() == pytest.approx(0.5)
    assert optimizer.learning_rate == pytest.approx(0.5)


def test_learning_rate_variable_is_the_one_in_variables():
    optimizer = keras.optimizers.SGD(0.25)
    assert optimizer.learning_rate in optimizer.variables
    optimizer.learning_rate.assign(0.125)
    assert float(optimizer.variables[1]) == pytest.approx(0.125)


def test_schedule_learning_rate_is_a_value_and_not_settable():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    optimizer = keras.optimizers.SGD(schedule)
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.3


def test_custom_callback_reads_and_sets_learning_rate():
    # The "writing your own callbacks" guide's scheduler: reads the Variable, writes a value.
    class Halve(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            lr = self.model.optimizer.learning_rate
            self.model.optimizer.learning_rate = float(np.array(lr)) / 2

    model = _small_model()
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=2, verbose=0, callbacks=[Halve()])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.025)


# -- layers ---------------------------------------------------------------------------------
def test_activity_regularization_adds_its_loss_and_round_trips():
    layer = layers.ActivityRegularization(l1=0.1, l2=0.01)
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    # (0.1 * 6 + 0.01 * 6) / batch 2
    assert float(layer.losses[0]) == pytest.approx(0.33)
    config = layer.get_config()
    assert config["l1"] == 0.1 and "activity_regularizer" not in config
    assert layers.ActivityRegularization.from_config(config).l2 == 0.01


def test_unknown_sequence_length_stays_none():
    inputs = keras.Input((None,), dtype="int32")
    x = layers.Embedding(100, 8, mask_zero=True)(inputs)
    assert x.shape == (None, None, 8)
    assert x._keras_mask.shape == (None, None)
    assert layers.LSTM(4, return_sequences=True)(x).shape == (None, None, 4)
    images = keras.Input((None, None, 3))
    assert layers.Conv2D(4, 3)(images).shape == (None, None, None, 4)
    assert layers.Flatten()(keras.Input((None, 5))).shape == (None, None)
    assert layers.Dense(2)(keras.Input((None, 5))).shape == (None, None, 2)


def test_layers_serialize_deserialize():
    config = keras.layers.serialize(layers.Dense(3, kernel_regularizer="l2"))
    assert config["class_name"] == "Dense"
    layer = keras.layers.deserialize(config)
    assert isinstance(layer, layers.Dense) and layer.units == 3


def test_keras_objects_in_a_custom_layer_config_are_serialized():
    class Wrapper(layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

        def get_config(self):
            return {**super().get_config(), "inner": self.inner}

        @classmethod
        def from_config(cls, config):
            config["inner"] = keras.layers.deserialize(config["inner"])
            return cls(**config)

    inputs = keras.Input((4,))
    model = keras.Model(inputs, Wrapper(layers.Dense(2))(inputs))
    config = model.get_config()
    assert config["layers"][1]["config"]["inner"]["class_name"] == "Dense"
    clone = keras.Model.from_config(config, custom_objects={"Wrapper": Wrapper})
    assert clone.output.shape == (None, 2)


def test_deserialize_keras_object_regularizer_initializer_constraint():
    for obj in (keras.regularizers.L1(0.005), keras.initializers.HeNormal(),
                keras.constraints.MaxNorm(2.0)):
        config = keras.saving.serialize_keras_object(obj)
        again = keras.saving.deserialize_keras_object(config)
        assert type(again) is type(obj) and again.get_config() == obj.get_config()


# -- models ---------------------------------------------------------------------------------
def test_clone_model_functional_sequential_and_clone_function():
    model = _small_model()
    clone = keras.models.clone_model(model)
    assert clone is not model and clone.output.shape == (None, 2)
    assert not any(np.array_equal(a, b) for a, b in
                   zip(model.get_weights()[:1], clone.get_weights()[:1]))
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(1)])
    seq_clone = keras.models.clone_model(seq)
    assert [type(x) for x in seq_clone.layers] == [type(x) for x in seq.layers]
    assert seq_clone.built and seq_clone.output_shape == (None, 1)
    shared = keras.models.clone_model(seq, clone_function=lambda layer: layer)
    assert shared.layers[0] is seq.layers[0]


def test_save_format_h5_without_suffix(tmp_path):
    model = _small_model()
    path = str(tmp_path / "my_model")
    model.save(path, save_format="h5")
    assert os.path.isfile(path)
    restored = keras.models.load_model(path)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="save_format='tf'"):
        model.save(str(tmp_path / "other"), save_format="tf")


# -- keras.io examples cast with the layer's dtypes ------------------------------------------
class _PositionalEmbedding(layers.Layer):
    """keras.io's text examples: positions and their scaling cast to `self.compute_dtype`."""

    def __init__(self, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(length, dim)
        self.dim = dim

    def call(self, x):
        scale = keras.ops.sqrt(keras.ops.cast(self.dim, self.compute_dtype))
        positions = self.embedding(keras.ops.arange(keras.ops.shape(x)[1]))
        return keras.ops.cast(x, self.compute_dtype) * scale + positions


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_layer_compute_and_variable_dtype_follow_the_layer_dtype(dtype):
    layer = _PositionalEmbedding(5, 4, dtype=dtype)
    out = layer(np.ones((2, 5, 4), dtype="float32"))
    expected = dtype or "float32"
    assert (layer.compute_dtype, layer.variable_dtype) == (expected, expected)
    assert keras.ops.convert_to_numpy(out).shape == (2, 5, 4)
    assert str(out.dtype) == expected
