"""LeNet-5 on MNIST (tanh + average pooling, as LeCun et al. 1998), Sequential API."""

import sys

import webkeras as keras

samples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
layers = keras.layers

model = keras.Sequential([
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
model.summary()

if samples:
    (x_train, y_train), _ = keras.datasets.mnist.load_data()
    x_train = x_train[:samples, :, :, None].astype("float32") / 255.0
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train[:samples], batch_size=64, epochs=1, verbose=2)
