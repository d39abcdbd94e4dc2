"""Stateful RNNs, as the Keras guide "Working with RNNs" uses them (cross-batch statefulness,
state reuse) and as tf.keras 2 tutorials train them (`batch_input_shape`, `shuffle=False`,
`model.reset_states()`)."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers

RNNS = [layers.SimpleRNN, layers.LSTM, layers.GRU]


def sequences(batch=4, steps=12, features=3, seed=0):
    return np.random.default_rng(seed).random((batch, steps, features)).astype("float32")


@pytest.mark.parametrize("cls", RNNS)
def test_two_stateful_halves_equal_one_stateless_pass(cls):
    x = sequences()
    stateless = cls(5, return_sequences=True)
    whole = stateless(x).numpy()
    stateful = cls(5, return_sequences=True, stateful=True)
    stateful.build(x.shape)
    stateful.set_weights(stateless.get_weights())
    first = stateful(x[:, :6]).numpy()
    second = stateful(x[:, 6:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5,
                               atol=1e-6)
    # reset_states() starts again from zeros.
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :6]).numpy(), whole[:, :6], rtol=1e-5,
                               atol=1e-6)


def test_the_guides_cross_batch_statefulness_and_state_reuse():
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    assert output.shape == (20, 64)
    assert len(lstm_layer.weights) == 3  # the states are not weights

    # reset_states() will reset the cached state to the original initial_state.
    lstm_layer.reset_states()
    assert all(not np.any(s.numpy()) for s in lstm_layer.states)

    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)
    existing_state = lstm_layer.states
    np.testing.assert_allclose(existing_state[0].numpy(), output.numpy(), rtol=1e-6)

    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)
    assert new_output.shape == (20, 64)


def test_tf_keras_2_stateful_training_with_batch_input_shape():
    batch_size, timesteps, data_dim = 4, 6, 3
    model = keras.Sequential()
    model.add(layers.LSTM(8, return_sequences=True, stateful=True,
                          batch_input_shape=(batch_size, timesteps, data_dim)))
    model.add(layers.LSTM(8, stateful=True))
    model.add(layers.Dense(2, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x_train = rng.random((batch_size * 5, timesteps, data_dim)).astype("float32")
    y_train = keras.utils.to_categorical(rng.integers(0, 2, batch_size * 5), 2)
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=2, shuffle=False,
                        verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(np.any(s.numpy()) for s in model.layers[0].states)
    model.reset_states()
    assert not any(np.any(s.numpy()) for layer in model.layers[:2] for s in layer.states)
    # A batch of another size cannot continue the stored states.
    with pytest.raises(ValueError, match="batch size"):
        model.predict(x_train[:3], batch_size=3, verbose=0)


@pytest.mark.parametrize("make_input", [
    lambda: keras.Input(batch_shape=(2, 6, 3)),
    lambda: keras.Input(shape=(6, 3), batch_size=2),
])
def test_stateful_gru_in_a_functional_model_with_a_fixed_batch(make_input):
    inputs = make_input()
    outputs = layers.GRU(4, stateful=True)(inputs)
    model = keras.Model(inputs, outputs)
    x = sequences(batch=2, steps=6)
    a = model.predict(x, batch_size=2, verbose=0)
    b = model.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(a, b)  # the second call started from the first one's state
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), a, rtol=1e-6)


def test_reset_states_with_given_values():
    layer = layers.SimpleRNN(3, stateful=True)
    layer(sequences(batch=2, steps=4))
    layer.reset_states(states=[np.ones((2, 3))])
    np.testing.assert_array_equal(layer.states[0].numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        layer.reset_states(states=[np.ones((3, 3))])


def test_stateful_config_round_trip_and_stateless_reset_is_a_no_op():
    layer = layers.LSTM(3, stateful=True)
    assert layers.LSTM.from_config(layer.get_config()).stateful
    plain = layers.LSTM(3)
    plain(sequences())
    plain.reset_states()
    assert plain.states is None


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU])
def test_gradients_of_a_stateful_pass_start_from_the_carried_state(cls):
    x = sequences(steps=8)
    stateful = cls(4, stateful=True, return_sequences=True)
    stateful(x[:, :4])
    carried = [s.numpy() for s in stateful.states]
    stateless = cls(4, return_sequences=True)
    stateless.build(x.shape)
    stateless.set_weights(stateful.get_weights())

    def gradients(layer, **kwargs):
        with keras.GradientTape() as tape:
            loss = keras.ops.sum(keras.ops.square(layer(x[:, 4:], **kwargs)))
        return [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]

    expected = gradients(stateless, initial_state=carried)
    for got, want in zip(gradients(stateful), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
