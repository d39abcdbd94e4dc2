"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grey images of 10 kinds of clothing."""

import numpy as np

from webkeras.datasets.fetch import get_file


def load_data(path="fashion_mnist.npz"):
    """Loads the Fashion-MNIST dataset, as `keras.datasets.fashion_mnist.load_data()` does.

    `make setup` packs the four original `*-idx?-ubyte.gz` files (Debian package
    dataset-fashion-mnist, the same bytes Keras downloads) into one `fashion_mnist.npz`.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Args:
        path: file name inside the data directory (`$WEBKERAS_HOME/datasets`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28) and (10000,).

    Example:

    >>> (x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
    >>> int(y_train[0])
    9
    """
    with np.load(get_file(path), allow_pickle=False) as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)
