"""Models whose `summary()` is compared line by line with real Keras 3's.

Shared by make_summaries.py (run with real Keras) and tests/test_models.py (webkeras): each
builder takes the `keras` module, so both build the very same model.
"""


def mlp(keras):
    return keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])


def lenet(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="tanh"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="tanh"),
        layers.AveragePooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="tanh"),
        layers.Dense(84, activation="tanh"),
        layers.Dense(10, activation="softmax"),
    ], name="lenet5")


def multi_io(keras):
    layers = keras.layers
    title = keras.Input(shape=(10,), name="title")
    body = keras.Input(shape=(20,), name="body")
    tags = keras.Input(shape=(4,), name="tags")
    x = layers.concatenate([layers.Dense(8)(title), layers.Dense(8)(body), tags])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(3, activation="softmax", name="department")(x)
    return keras.Model(inputs=[title, body, tags], outputs={"priority": priority,
                                                           "department": department})


def autoencoder(keras):
    layers = keras.layers
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded = encoder(autoencoder_input)
    decoded = decoder(encoded)
    return keras.Model(autoencoder_input, decoded, name="autoencoder")


def residual(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_2_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def rnn_stack(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(1000, 16, mask_zero=True),
        layers.Bidirectional(layers.LSTM(8, return_sequences=True)),
        layers.GRU(8),
        layers.Dense(1, activation="sigmoid"),
    ])


MODELS = {"mlp": mlp, "lenet": lenet, "multi_io": multi_io, "autoencoder": autoencoder,
          "residual": residual, "rnn_stack": rnn_stack}
