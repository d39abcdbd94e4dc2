"""The six architectures of the saving interop matrix, built with any Keras: Keras 3 for
make_saving_reference.py, tf.keras 2 (`tf_keras`) for make_converter_reference.py.

An MLP with Dropout, a CNN with BatchNormalization, Embedding + LSTM, GRU + SimpleRNN, a
functional two-input two-output model with a shared layer and a nested model, and a
Conv2DTranspose/UpSampling model. Each builder takes the `keras` module to build with.
"""


def mlp(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
        layers.Dense(3, activation="softmax")], name="mlp")


def cnn(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(2)], name="cnn")


def embed_lstm(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(20, 4),
        layers.LSTM(5), layers.Dense(1)], name="embed_lstm")


def gru_rnn(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((5, 3)), layers.GRU(4, return_sequences=True), layers.SimpleRNN(3),
        layers.Dense(2)], name="gru_rnn")


def functional(keras):
    layers = keras.layers
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, layers.Dense(4, activation="tanh")(inner_in), name="inner")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    shared = layers.Dense(6, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([inner(ha), hb])
    out1 = layers.Dense(2, name="out1")(merged)
    out2 = layers.Dense(1, activation="sigmoid", name="out2")(layers.Add()([ha, hb]))
    return keras.Model([a, b], [out1, out2], name="two_io")


def deconv(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((4, 4, 2)), layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
        layers.UpSampling2D(2), layers.Conv2D(1, 1)], name="deconv")


MODELS = {"mlp": mlp, "cnn": cnn, "embed_lstm": embed_lstm, "gru_rnn": gru_rnn,
          "functional": functional, "deconv": deconv}
