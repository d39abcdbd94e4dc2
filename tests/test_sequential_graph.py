"""Layer `.input` / `.output` in Sequential and Functional models, as the Keras guides "The
Sequential model" (feature extraction) and "The Functional API" (extract and reuse nodes) use
them: a Sequential model with an input builds a functional graph of its layers."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers, ops


def test_the_guides_feature_extraction_from_every_layer():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(250, 250, 3)),
            layers.Conv2D(32, 5, strides=2, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    # Call feature extractor on test input.
    x = ops.ones((1, 250, 250, 3))
    features = feature_extractor(x)
    assert [tuple(f.shape) for f in features] == [(1, 123, 123, 32), (1, 121, 121, 32),
                                                  (1, 119, 119, 32)]
    np.testing.assert_allclose(features[-1].numpy(), initial_model(x).numpy(), rtol=1e-5)


def test_the_guides_feature_extraction_from_a_named_layer():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(25, 25, 3)),
            layers.Conv2D(4, 5, strides=2, activation="relu"),
            layers.Conv2D(4, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(4, 3, activation="relu"),
        ]
    )
    feature_extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=initial_model.get_layer(name="my_intermediate_layer").output,
    )
    x = ops.ones((1, 25, 25, 3))
    features = feature_extractor(x)
    assert tuple(features.shape) == (1, 9, 9, 4)


def test_layer_input_and_output_after_incremental_add_and_pop():
    model = keras.Sequential()
    model.add(keras.Input(shape=(6,)))
    model.add(layers.Dense(5, activation="relu"))
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(3))
    assert model.layers[0].input is model.inputs[0]
    assert model.layers[1].input is model.layers[0].output
    assert model.outputs[0] is model.layers[-1].output
    model.pop()
    assert len(model.layers) == 2
    assert model.outputs[0] is model.layers[-1].output
    assert model.output_shape == (None, 4)
    extractor = keras.Model(model.inputs, [layer.output for layer in model.layers])
    x = np.random.default_rng(0).random((2, 6)).astype("float32")
    first, last = extractor(x)
    np.testing.assert_allclose(last.numpy(), model(x).numpy(), rtol=1e-6)
    assert tuple(first.shape) == (2, 5)


def test_sequential_built_by_its_first_call_has_layer_outputs():
    model = keras.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3)])
    assert model.inputs is None
    model(ops.ones((1, 4)))
    assert len(model.weights) == 4
    extractor = keras.Model(inputs=model.inputs, outputs=model.layers[0].output)
    assert tuple(extractor(ops.ones((3, 4))).shape) == (3, 2)


def test_sequential_with_input_shape_on_the_first_layer():
    model = keras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    assert model.layers[0].output.shape == (None, 3)
    # tf.keras 2 forms: the model's and every layer's input / output and their shapes.
    assert model.input is model.inputs[0]
    assert model.output is model.outputs[0]
    assert [layer.output_shape for layer in model.layers] == [(None, 3), (None, 2)]
    assert model.layers[1].input_shape == (None, 3)


def test_functional_guide_extract_and_reuse_nodes():
    inputs = keras.Input(shape=(8,), name="img")
    x = layers.Dense(6, activation="relu")(inputs)
    x = layers.Dense(4, activation="relu")(x)
    outputs = layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    features_list = [layer.output for layer in model.layers]
    feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
    img = np.random.default_rng(0).random((3, 8)).astype("float32")
    extracted_features = feat_extraction_model(img)
    assert [tuple(f.shape) for f in extracted_features] == [(3, 8), (3, 6), (3, 4), (3, 2)]
    np.testing.assert_allclose(extracted_features[-1].numpy(), model(img).numpy(), rtol=1e-6)


def test_a_layer_used_twice_reports_its_first_call_as_keras_3_does():
    dense = layers.Dense(3)
    a, b = keras.Input((4,)), keras.Input((4,))
    out_a = dense(a)
    dense(b)
    assert dense.output is out_a and dense.input is a


def test_a_layer_never_called_has_no_output():
    with pytest.raises(AttributeError, match="never been called"):
        _ = layers.Dense(2).output


def test_sequential_inside_a_functional_model():
    block = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    inputs = keras.Input((4,))
    outputs = block(inputs)
    model = keras.Model(inputs, outputs)
    assert block.output is outputs
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(model(x).numpy(), block(x).numpy(), rtol=1e-6)
    # Its inner graph stays usable for feature extraction.
    inner = keras.Model(block.inputs, block.layers[0].output)
    assert tuple(inner(x).shape) == (2, 3)


def test_a_model_first_in_a_sequential_gives_it_its_input():
    # The transfer learning guide's `keras.Sequential([base_model, layers.Dense(1)])`.
    base_model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model = keras.Sequential([base_model, layers.Dense(1)])
    assert model.built and model.output_shape == (None, 1)
    functional_base = keras.Model(base_model.inputs, base_model.outputs)
    assert keras.Sequential([functional_base, layers.Dense(2)]).output_shape == (None, 2)


def test_functional_guide_model_from_config_with_custom_objects():
    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                     trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    assert new_model.output_shape == (None, 10)
