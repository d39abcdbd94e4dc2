"""Turns fit/evaluate/predict inputs into batches of host arrays `(x, y, sample_weight)`.

Inputs may be NumPy arrays (or lists/dicts of them for multi-input models), a
`keras.data.Dataset`, a `keras.utils.PyDataset` (`Sequence`), or a Python generator / iterator
yielding `x`, `(x, y)` or `(x, y, sample_weight)` batches.
"""

import math
import types

import numpy as np

from webkeras.trainers.argument_checks import (check_class_weight, check_finite_weights,
                                               reject_complex)
from webkeras.utils import random_state, tree


def standardize_array(x, name):
    """A host array in a dtype the backends take: floats -> float32, integers -> int32."""
    array = np.asarray(x)
    reject_complex(array, name)
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


def unpack_x_y_sample_weight(data):
    """`x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` -> `(x, y, sample_weight)`."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a tuple of {len(data)} elements."
    )


def class_indices(y):
    """The class of each sample of integer, binary or one-hot targets."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    return np.round(y).astype("int32")


def check_classes_weighted(y, class_weight):
    """Refuses `class_weight` that lacks a class present in `y` (as tf.keras did)."""
    missing = sorted(set(np.unique(class_indices(y)).tolist()) - set(class_weight))
    if missing:
        raise ValueError(
            "`class_weight` must contain all classes in the data. The classes "
            f"{missing} exist in the data but not in `class_weight`. Received: class_weight="
            f"{class_weight}. Add a weight for each (1.0 leaves a class as it is)."
        )


def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights from `{class index: weight}` and integer or one-hot targets."""
    class_weight = check_class_weight(class_weight)
    check_classes_weighted(y, class_weight)
    return np.array([class_weight[int(c)] for c in class_indices(y)], dtype="float32")


class DataAdapter:
    """One source of batches. `num_batches` is None when unknown or infinite."""

    num_batches = None
    infinite = False

    def get_numpy_iterator(self):
        raise NotImplementedError

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class ArrayDataAdapter(DataAdapter):
    """Batches (x, y, sample_weight) structures of equal-length arrays."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.x = tree.map_structure(lambda a: standardize_array(a, "x"), x)
        self.y = None if y is None else tree.map_structure(lambda a: standardize_array(a, "y"), y)
        if sample_weight is not None:
            check_finite_weights(sample_weight)
        self.sample_weight = None if sample_weight is None else tree.map_structure(
            lambda a: np.asarray(a, dtype="float32"), sample_weight)
        lengths = {len(a) for a in tree.flatten(self.x)}
        y_lengths = set() if y is None else {len(a) for a in tree.flatten(self.y)}
        if len(lengths) != 1 or (y_lengths and y_lengths != lengths):
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                f"samples. Received: x sizes: {sorted(lengths)}, y sizes: {sorted(y_lengths)}"
            )
        self.num_samples = lengths.pop()
        for w in ([] if self.sample_weight is None else tree.flatten(self.sample_weight)):
            if len(w) != self.num_samples:
                raise ValueError(
                    f"`sample_weight` has {len(w)} entries but the data has "
                    f"{self.num_samples} samples. Pass one weight per sample."
                )
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle

    @property
    def num_batches(self):
        return math.ceil(self.num_samples / self.batch_size)

    def get_numpy_iterator(self):
        order = np.arange(self.num_samples)
        if self.shuffle:
            random_state.make_rng().shuffle(order)
        for start in range(0, self.num_samples, self.batch_size):
            index = order[start:start + self.batch_size]
            if not self.shuffle:
                index = slice(start, start + self.batch_size)
            take = lambda a, index=index: a[index]
            x = tree.map_structure(take, self.x)
            y = None if self.y is None else tree.map_structure(take, self.y)
            w = None if self.sample_weight is None else tree.map_structure(
                take, self.sample_weight)
            yield x, y, w

    batches = get_numpy_iterator


class DatasetAdapter(DataAdapter):
    """A `keras.data.Dataset` whose elements are batches."""

    def __init__(self, dataset):
        from webkeras.data import INFINITE_CARDINALITY

        self.dataset = dataset
        cardinality = dataset.cardinality()
        self.infinite = cardinality == INFINITE_CARDINALITY
        self.num_batches = cardinality if cardinality >= 0 else None

    def get_numpy_iterator(self):
        for element in self.dataset:
            yield unpack_x_y_sample_weight(element)


class PyDatasetAdapter(DataAdapter):
    """A `keras.utils.PyDataset` (or `Sequence`): `len()` batches, `ds[i]` is batch i."""

    def __init__(self, py_dataset, shuffle=False):
        self.py_dataset = py_dataset
        self.shuffle = shuffle
        length = getattr(py_dataset, "num_batches", None)
        if length is None and hasattr(type(py_dataset), "__len__"):
            length = len(py_dataset)
        self.num_batches = length
        self.infinite = length is None

    def get_numpy_iterator(self):
        if self.num_batches is None:
            index = 0
            while True:
                yield unpack_x_y_sample_weight(self.py_dataset[index])
                index += 1
        order = np.arange(self.num_batches)
        if self.shuffle:
            random_state.make_rng().shuffle(order)
        for index in order:
            yield unpack_x_y_sample_weight(self.py_dataset[int(index)])

    def on_epoch_begin(self):
        if hasattr(self.py_dataset, "on_epoch_begin"):
            self.py_dataset.on_epoch_begin()

    def on_epoch_end(self):
        if hasattr(self.py_dataset, "on_epoch_end"):
            self.py_dataset.on_epoch_end()


class GeneratorDataAdapter(DataAdapter):
    """A Python generator or iterator: consumed as it goes, its size is unknown."""

    def __init__(self, generator):
        self.generator = generator

    def get_numpy_iterator(self):
        for _, element in _numbered(self.generator):
            yield unpack_x_y_sample_weight(element)


def _numbered(generator):
    index = 0
    while True:
        try:
            element = next(generator)
        except StopIteration:
            return
        except Exception as error:
            if hasattr(error, "add_note"):
                error.add_note(f"Raised by the data generator {generator!r} while producing "
                               f"batch {index}.")
            raise
        yield index, element
        index += 1


class ClassWeightAdapter(DataAdapter):
    """Multiplies each batch's sample weights by the weights of its targets' classes."""

    def __init__(self, adapter, class_weight):
        self.adapter = adapter
        self.class_weight = check_class_weight(class_weight)
        y = getattr(adapter, "y", None)
        if y is not None and not (tree.is_nested(y) and len(tree.flatten(y)) > 1):
            # Arrays: every class is known before the first step.
            check_classes_weighted(tree.flatten(y)[0], self.class_weight)
        self.num_batches = adapter.num_batches
        self.infinite = adapter.infinite

    def get_numpy_iterator(self):
        for x, y, w in self.adapter.get_numpy_iterator():
            if y is None or (tree.is_nested(y) and len(tree.flatten(y)) > 1):
                raise ValueError(
                    "`class_weight` is only supported for Models with a single output, "
                    "and needs targets `y`."
                )
            y_flat = tree.flatten(y)[0]
            weights = class_weight_to_sample_weights(y_flat, self.class_weight)
            if w is not None:
                weights = weights * np.asarray(tree.flatten(w)[0], dtype="float32")
            yield x, y, weights

    def on_epoch_begin(self):
        self.adapter.on_epoch_begin()

    def on_epoch_end(self):
        self.adapter.on_epoch_end()


def is_dataset(x):
    from webkeras.data import Dataset

    return isinstance(x, Dataset)


def is_py_dataset(x):
    from webkeras.utils.py_dataset import PyDataset

    return isinstance(x, PyDataset)


def is_generator(x):
    return isinstance(x, types.GeneratorType) or (
        hasattr(x, "__next__") and hasattr(x, "__iter__") and not isinstance(x, np.ndarray))


def _unsupported(argument, description, input_type):
    return ValueError(
        f"When providing `x` as a {input_type}, `{argument}` should not be passed. Instead, "
        f"{description} should be included as part of the {input_type}."
    )


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                     class_weight=None):
    """The adapter for `x`'s type, with Keras's errors for arguments that type ignores."""
    kind = ("keras.data.Dataset" if is_dataset(x) else "PyDataset" if is_py_dataset(x)
            else "Python generator" if is_generator(x) else None)
    if kind is not None:
        if y is not None:
            raise _unsupported("y", "the targets", kind)
        if sample_weight is not None:
            raise _unsupported("sample_weight", "the sample weights", kind)
    if kind == "keras.data.Dataset":
        adapter = DatasetAdapter(x)
    elif kind == "PyDataset":
        adapter = PyDatasetAdapter(x, shuffle=bool(shuffle))
    elif kind == "Python generator":
        if class_weight:
            raise ValueError("Argument `class_weight` is not supported for Python generator "
                             f"inputs. Received: class_weight={class_weight}")
        adapter = GeneratorDataAdapter(x)
    else:
        if x is None:
            raise ValueError("Unrecognized data type: x=None. Pass NumPy arrays, a "
                             "keras.data.Dataset, a PyDataset or a generator.")
        adapter = ArrayDataAdapter(x, y, sample_weight, batch_size, shuffle=shuffle)
    if class_weight:
        adapter = ClassWeightAdapter(adapter, class_weight)
    return adapter


def split_validation(x, y, validation_split, sample_weight=None):
    """The last `validation_split` fraction of the samples, as Keras takes it (before shuffling)."""
    if not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received {validation_split}")
    unsplittable = [type(t) for t in tree.flatten((x, y, sample_weight))
                    if t is not None and not _sliceable(t)]
    if unsplittable:
        raise ValueError(
            "Argument `validation_split` is only supported for tensors or NumPy arrays. "
            f"Found incompatible type in the input: {unsplittable}"
        )
    n = len(tree.flatten(x)[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`."
            " Either provide more data, or a different value for the `validation_split` "
            "argument."
        )
    head = lambda a: None if a is None else np.asarray(a)[:split_at]  # noqa: E731
    tail = lambda a: None if a is None else np.asarray(a)[split_at:]  # noqa: E731
    parts = (x, y, sample_weight)
    return tree.map_structure(head, parts), tree.map_structure(tail, parts)


def _sliceable(t):
    return isinstance(t, (np.ndarray, list, tuple, int, float)) or (
        hasattr(t, "shape") and hasattr(t, "__getitem__") and not is_dataset(t))
