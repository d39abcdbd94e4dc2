"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""

import numpy as np

from webkeras.datasets import cifar, registry
from webkeras.datasets.fetch import get_file
from webkeras.utils import file_utils

FILE = registry.data_file("cifar10", "cifar-10-python.tar.gz")
MEMBERS = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)]
TEST_MEMBER = "cifar-10-batches-py/test_batch"


def load_data():
    """Loads the CIFAR-10 dataset, as `keras.datasets.cifar10.load_data()` does.

    CIFAR-10 is on no package registry: put Keras's `cifar-10-python.tar.gz` (from
    https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, sha256 6d958be0...) in the data
    directory (`$WEBKERAS_HOME/datasets`, or the server's, for the browser). It is checked
    against Keras's sha256 and read in place.

    Classes: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 arrays of shapes (50000, 32, 32, 3),
        (50000, 1), (10000, 32, 32, 3), (10000, 1) (images (N, 3, 32, 32) when
        `keras.config.image_data_format()` is "channels_first").

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    >>> x_train.shape, y_train.shape
    ((50000, 32, 32, 3), (50000, 1))
    """
    path = get_file(FILE.name, FILE.sha256, hint=FILE.hint(file_utils.data_dir()))
    batches = cifar.read_batches(path, MEMBERS + [TEST_MEMBER])
    parts = [cifar.load_batch(batches[m]) for m in MEMBERS]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([np.asarray(y, dtype=np.uint8) for _, y in parts])
    x_test, y_test = cifar.load_batch(batches[TEST_MEMBER])
    return cifar.to_keras_layout(x_train, y_train, x_test, np.asarray(y_test))
