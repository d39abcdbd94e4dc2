# A convolutional autoencoder on MNIST (keras.io's "Convolutional autoencoder for image
# denoising", without the noise): Conv2D down, Conv2DTranspose up.
import keras
import numpy as np
from keras import layers

SMALL = True

keras.utils.set_random_seed(0)
(x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
x_train = x_train[..., None].astype("float32") / 255
x_test = x_test[..., None].astype("float32") / 255
if SMALL:
    x_train, x_test = x_train[:1000], x_test[:200]

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(16, 3, activation="relu", padding="same", strides=2)(inputs)
x = layers.Conv2D(8, 3, activation="relu", padding="same", strides=2)(x)
x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same")(x)
outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
autoencoder = keras.Model(inputs, outputs, name="autoencoder")
autoencoder.summary()
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.fit(x_train, x_train, epochs=2 if SMALL else 20, batch_size=64, shuffle=True,
                validation_data=(x_test, x_test))
reconstructed = autoencoder.predict(x_test[:8], verbose=0)
print("reconstruction MSE:", float(np.mean((reconstructed - x_test[:8]) ** 2)))
