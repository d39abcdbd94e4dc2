"""The Keras guide "Understanding masking & padding", run unchanged: masks on eager and
symbolic tensors, and masks passed along by layers whose `call` takes no `mask`."""

import numpy as np

import webkeras as keras
from webkeras import layers, ops

raw_inputs = [
    [711, 632, 71],
    [73, 8, 3215, 55, 927],
    [83, 91, 1, 645, 1253, 927],
]
padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
EXPECTED_MASK = padded_inputs != 0


def test_mask_generating_layers():
    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    np.testing.assert_array_equal(np.asarray(masked_output._keras_mask), EXPECTED_MASK)

    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = ops.cast(
        ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), dtype="float32"
    )
    masked_embedding = masking_layer(unmasked_embedding)
    np.testing.assert_array_equal(np.asarray(masked_embedding._keras_mask), EXPECTED_MASK)


class TemporalSplit(keras.layers.Layer):
    """Split the input tensor into 2 tensors along the time dimension."""

    def call(self, inputs):
        # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
        # subtensors along the time axis (axis 1).
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        # Also split the mask into 2 if it presents.
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


def test_a_layer_that_modifies_the_mask():
    masked_embedding = layers.Masking()(ops.cast(ops.expand_dims(padded_inputs, -1),
                                                 "float32"))
    first_half, second_half = TemporalSplit()(masked_embedding)
    np.testing.assert_array_equal(np.asarray(first_half._keras_mask), EXPECTED_MASK[:, :3])
    np.testing.assert_array_equal(np.asarray(second_half._keras_mask), EXPECTED_MASK[:, 3:])


class MyActivation(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Signal that the layer is safe for mask propagation
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


def test_opting_in_to_mask_propagation_reaches_the_lstm():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)  # Will pass the mask along
    assert x._keras_mask is not None and x._keras_mask.shape[0] is None
    lstm = layers.LSTM(32)
    outputs = lstm(x)  # Will receive the mask
    model = keras.Model(inputs, outputs)
    y = model(padded_inputs)
    # The LSTM saw the mask: each row equals a run over only its unpadded steps.
    embedded = ops.relu(model.layers[1](padded_inputs))
    for row, length in enumerate(len(r) for r in raw_inputs):
        alone = lstm(embedded[row:row + 1, :length])
        np.testing.assert_allclose(y[row:row + 1].numpy(), alone.numpy(), rtol=1e-5,
                                   atol=1e-6)


class TemporalSoftmax(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        inputs_exp = ops.exp(inputs) * broadcast_float_mask
        inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
        return inputs_exp / inputs_sum


def test_a_layer_that_needs_mask_information_in_a_functional_model():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    tokens = np.random.default_rng(0).integers(1, 10, size=(32, 100))
    y = model(tokens)
    np.testing.assert_allclose(y.numpy(), np.ones((32, 100, 1)), rtol=1e-6)
    # The mask came from the real inputs, not from the placeholders of the graph's build.
    assert "mask" not in model.layers[-1]._inbound_nodes[0].arguments[1]
