"""Turns fit/evaluate/predict inputs (NumPy arrays, lists, dicts) into batches of host arrays."""

import math

import numpy as np

from webkeras.utils import random_state, tree


def standardize_array(x, name):
    """A host array in a dtype the backends take: floats -> float32, integers -> int32."""
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(
            f"Expected `{name}` to hold numbers, received an array of dtype {array.dtype}. "
            "Convert strings and objects to numbers first."
        )
    if np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32, copy=False)
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise ValueError(
                f"`{name}` contains {bad} NaN or infinite value(s). Expected finite numbers: "
                "clean or impute the data before training."
            )
    elif array.dtype != bool:
        array = array.astype(np.int32, copy=False)
    return array


class ArrayDataAdapter:
    """Batches (x, y, sample_weight) structures of equal-length arrays."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.x = tree.map_structure(lambda a: standardize_array(a, "x"), x)
        self.y = None if y is None else tree.map_structure(lambda a: standardize_array(a, "y"), y)
        self.sample_weight = sample_weight
        lengths = {len(a) for a in tree.flatten(self.x)}
        y_lengths = set() if y is None else {len(a) for a in tree.flatten(self.y)}
        if len(lengths) != 1 or (y_lengths and y_lengths != lengths):
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                f"samples. Received: x sizes: {sorted(lengths)}, y sizes: {sorted(y_lengths)}"
            )
        self.num_samples = lengths.pop()
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle

    @property
    def num_batches(self):
        return math.ceil(self.num_samples / self.batch_size)

    def batches(self):
        order = np.arange(self.num_samples)
        if self.shuffle:
            random_state.make_rng().shuffle(order)
        for start in range(0, self.num_samples, self.batch_size):
            index = order[start:start + self.batch_size]
            if not self.shuffle:
                index = slice(start, start + self.batch_size)
            take = lambda a: a[index]  # noqa: E731
            x = tree.map_structure(take, self.x)
            y = None if self.y is None else tree.map_structure(take, self.y)
            w = None if self.sample_weight is None else np.asarray(self.sample_weight)[index]
            yield x, y, w


def split_validation(x, y, validation_split):
    """The last `validation_split` fraction of the samples, as Keras takes it (before shuffling)."""
    if not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received {validation_split}")
    n = len(tree.flatten(x)[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or validation "
            f"out of {n}."
        )
    head = lambda a: np.asarray(a)[:split_at]  # noqa: E731
    tail = lambda a: np.asarray(a)[split_at:]  # noqa: E731
    return (
        (tree.map_structure(head, x), tree.map_structure(head, y)),
        (tree.map_structure(tail, x), tree.map_structure(tail, y)),
    )
