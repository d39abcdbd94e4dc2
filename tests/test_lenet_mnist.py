"""The tutorial LeNet (two 5x5 convolutions, max pooling, two dense layers) on full MNIST
reaches >= 0.98 test accuracy in one epoch on the NumPy backend, with a fixed seed.

469 steps of ~0.2 s with BLAS on one thread (about 2 minutes). OpenBLAS's own threads are
limited to one here: on 2 shared cores its spinning threads made the same epoch 5-10x slower.
"""

import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import webkeras as keras

EPOCHS = 1


pytestmark = pytest.mark.usefixtures("numpy_backend")


def lenet():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, (5, 5), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (5, 5), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(500, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def test_lenet_reaches_98_percent_on_mnist():
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = (x_train.astype("float32") / 255)[..., None]
    x_test = (x_test.astype("float32") / 255)[..., None]
    keras.utils.set_random_seed(0)
    model = lenet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=0)
        fit_seconds = time.perf_counter() - start
        _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    steps = EPOCHS * int(np.ceil(len(x_train) / 128))
    print(f"LeNet MNIST: {EPOCHS} epoch(s), fit {fit_seconds:.1f} s "
          f"({1000 * fit_seconds / steps:.0f} ms/step), test accuracy {accuracy:.4f}")
    assert accuracy >= 0.98
