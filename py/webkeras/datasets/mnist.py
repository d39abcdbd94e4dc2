"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey levels."""

import numpy as np

from webkeras.datasets.fetch import get_file


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset, as `keras.datasets.mnist.load_data()` does.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,).
    """
    with np.load(get_file(path), allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
