"""Reuters newswire topics: 11,228 newswires labelled over 46 topics, as word-index lists."""

import json

import numpy as np

from webkeras.datasets import _sequences, registry
from webkeras.datasets.fetch import get_file
from webkeras.utils import file_utils

NPZ = registry.data_file("reuters", "reuters.npz")
WORD_INDEX = registry.data_file("reuters", "reuters_word_index.json")

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def _get(data_file, path):
    # Keras's pin applies to Keras's file name; another name is checked by its sidecar.
    pinned = data_file.sha256 if path == data_file.name else None
    return get_file(path, pinned, hint=data_file.hint(file_utils.data_dir()) if pinned else None)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters dataset, as `keras.datasets.reuters.load_data()` does.

    Reuters is on no package registry: put Keras's `reuters.npz` (from
    https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz, sha256
    d6586e69...) in the data directory (`$WEBKERAS_HOME/datasets`, or the server's, for the
    browser). It is checked against Keras's sha256; its ragged arrays are unpickled with a
    restricted unpickler that can only rebuild NumPy arrays.

    The newswires are shuffled with `np.random.RandomState(seed)`, then processed as
    `keras.datasets.imdb.load_data` does, and the first `int(n * (1 - test_split))` are the
    training set.

    Args:
        path: file name inside the data directory.
        num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: as in
            `keras.datasets.imdb.load_data`.
        test_split: fraction of the newswires used as the test set.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` 1-D object arrays of lists of ints
        (8,982 and 2,246 by default), `y_*` int64 topic indices in [0, 46) (names:
        `get_label_names()`).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(num_words=10000)
    >>> keras.datasets.reuters.get_label_names()[y_train[0]]
    """
    arrays = _sequences.load_npz(_get(NPZ, path))
    ((values, lengths), labels), = _sequences.keras_process(
        [(_sequences.ragged_from_arrays(arrays, "x"), arrays["y"])],
        seed, start_char, oov_char, index_from, maxlen, num_words, skip_top,
    )
    split = int(len(lengths) * (1 - test_split))
    train = _sequences.take((values, lengths), np.arange(split))
    test = _sequences.take((values, lengths), np.arange(split, len(lengths)))
    return ((_sequences.to_object_array(train), np.array(labels[:split])),
            (_sequences.to_object_array(test), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The dict word -> index of `load_data`'s sequences (before `index_from` is added).

    Needs Keras's `reuters_word_index.json` in the data directory (checked by Keras's md5).
    """
    with open(_get(WORD_INDEX, path), encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed as the labels of `load_data`."""
    return LABEL_NAMES
