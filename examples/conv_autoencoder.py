"""A convolutional autoencoder with Conv2DTranspose (encoder and decoder as nested models)."""

import sys

import numpy as np
import webkeras as keras

samples = int(sys.argv[1]) if len(sys.argv) > 1 else 256
layers = keras.layers

encoder_input = keras.Input(shape=(28, 28, 1), name="img")
x = layers.Conv2D(16, 3, activation="relu", padding="same", strides=2)(encoder_input)
encoder_output = layers.Conv2D(8, 3, activation="relu", padding="same", strides=2)(x)
encoder = keras.Model(encoder_input, encoder_output, name="encoder")

decoder_input = keras.Input(shape=(7, 7, 8), name="encoded_img")
x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(decoder_input)
x = layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(x)
decoder_output = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(decoder_input, decoder_output, name="decoder")

autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
autoencoder = keras.Model(autoencoder_input, decoder(encoder(autoencoder_input)),
                          name="autoencoder")
encoder.summary()
decoder.summary()
autoencoder.summary()

if samples:
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train[:samples, :, :, None].astype("float32") / 255.0
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.fit(x_train, x_train, epochs=1, batch_size=64, verbose=2)
    print("Reconstruction shape:", autoencoder(np.zeros((2, 28, 28, 1), "float32")).shape)
