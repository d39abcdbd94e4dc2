"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 fine / 20 coarse classes."""

import numpy as np

from webkeras.datasets import cifar, registry
from webkeras.datasets.fetch import get_file
from webkeras.utils import file_utils

FILE = registry.data_file("cifar100", "cifar-100-python.tar.gz")
TRAIN_MEMBER = "cifar-100-python/train"
TEST_MEMBER = "cifar-100-python/test"


def load_data(label_mode="fine"):
    """Loads the CIFAR-100 dataset, as `keras.datasets.cifar100.load_data()` does.

    CIFAR-100 is on no package registry: put Keras's `cifar-100-python.tar.gz` (from
    https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, sha256 85cd44d0...) in the data
    directory (`$WEBKERAS_HOME/datasets`, or the server's, for the browser). It is checked
    against Keras's sha256 and read in place.

    Args:
        label_mode: `"fine"` (100 classes) or `"coarse"` (20 superclasses).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images uint8 (50000, 32, 32, 3) and
        (10000, 32, 32, 3); labels int64 (50000, 1) and (10000, 1).

    Example:

    >>> (x_train, y_train), _ = keras.datasets.cifar100.load_data(label_mode="coarse")
    >>> int(y_train.max())
    19
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode}.'
        )
    path = get_file(FILE.name, FILE.sha256, hint=FILE.hint(file_utils.data_dir()))
    batches = cifar.read_batches(path, [TRAIN_MEMBER, TEST_MEMBER])
    key = f"{label_mode}_labels"
    x_train, y_train = cifar.load_batch(batches[TRAIN_MEMBER], key)
    x_test, y_test = cifar.load_batch(batches[TEST_MEMBER], key)
    return cifar.to_keras_layout(x_train, np.asarray(y_train), x_test, np.asarray(y_test))
