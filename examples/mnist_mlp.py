"""The classic Keras MNIST MLP, unchanged but for the import line.

Run with either backend:  WEBKERAS_BACKEND=numpy|webgpu python examples/mnist_mlp.py [epochs]
"""

import sys
import time

import webkeras as keras

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.Input(shape=(784,)),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

start = time.time()
model.fit(x_train, y_train, batch_size=128, epochs=epochs)
print(f"Backend: {keras.backend.backend()}, fit time: {time.time() - start:.1f}s")
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {accuracy:.4f}")
