"""Dataset: a lazily evaluated, re-iterable pipeline of NumPy elements (tf.data semantics).

Elements are NumPy arrays, or tuples / dicts of them. Each transformation returns a new
Dataset; iterating a Dataset runs the pipeline from the start (so `repeat` and re-iteration
across epochs work), except after `cache()`, which replays the first full pass.
"""

import math

import numpy as np

from webkeras.utils import random_state

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
AUTOTUNE = -1


def _map_structure(fn, element):
    if isinstance(element, tuple):
        return tuple(_map_structure(fn, e) for e in element)
    if isinstance(element, dict):
        return {k: _map_structure(fn, v) for k, v in element.items()}
    return fn(element)


def _leaves(element):
    if isinstance(element, tuple):
        return [leaf for e in element for leaf in _leaves(e)]
    if isinstance(element, dict):
        return [leaf for k in element for leaf in _leaves(element[k])]
    return [element]


def _zip_structures(elements):
    """A list of same-structure elements -> one structure whose leaves are lists."""
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(_zip_structures([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _zip_structures([e[k] for e in elements]) for k in first}
    return list(elements)


def _to_numpy(value):
    if hasattr(value, "numpy"):
        return value.numpy()
    return np.asarray(value) if isinstance(value, (list, int, float, bool)) else value


def _normalize(element):
    """Lists become arrays (as tf.data converts them); tensors become NumPy arrays."""
    if isinstance(element, tuple):
        return tuple(_normalize(e) for e in element)
    if isinstance(element, dict):
        return {k: _normalize(v) for k, v in element.items()}
    return np.asarray(_to_numpy(element))


def _call(fn, element):
    """tf.data calls `fn(*element)` for tuple elements and `fn(element)` otherwise."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


class Dataset:
    """A sequence of elements built from arrays and transformed step by step.

    Example:
    ```python
    dataset = keras.data.Dataset.from_tensor_slices((data, labels))
    dataset = dataset.shuffle(1000, seed=0).batch(32).repeat()
    model.fit(dataset, epochs=10, steps_per_epoch=30)
    ```
    """

    def __init__(self, make_iterator, cardinality):
        self._make_iterator = make_iterator
        self._cardinality = int(cardinality)

    # -- sources ---------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per row of `tensors` (an array, or a tuple / dict of arrays)."""
        tensors = _normalize(tensors)
        leaves = _leaves(tensors)
        if any(leaf.ndim == 0 for leaf in leaves):
            raise ValueError("Unbatching a tensor is only supported for rank >= 1: every "
                             "array passed to `from_tensor_slices` needs a first dimension.")
        lengths = {len(leaf) for leaf in leaves}
        if len(lengths) != 1:
            shapes = [leaf.shape for leaf in leaves]
            raise ValueError(
                "Dimensions of the arrays passed to `from_tensor_slices` must all match in "
                f"their first dimension; received shapes {shapes}."
            )
        n = lengths.pop()

        def make_iterator():
            for i in range(n):
                yield _map_structure(lambda a, i=i: a[i], tensors)

        return Dataset(make_iterator, n)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: `tensors` itself."""
        tensors = _normalize(tensors)
        return Dataset(lambda: iter([tensors]), 1)

    @staticmethod
    def range(*args):
        """`Dataset.range(stop)` / `range(start, stop[, step])` of int64 scalars."""
        values = range(*args)
        return Dataset(lambda: (np.int64(v) for v in values), len(values))

    @staticmethod
    def from_generator(generator, output_signature=None, output_types=None,
                       output_shapes=None, args=None):
        """Elements from `generator()`, called anew for each pass (size unknown)."""
        if not callable(generator):
            raise TypeError("`generator` must be a callable that returns an iterator, "
                            f"received {generator!r}.")
        call_args = tuple(args or ())

        def make_iterator():
            for element in generator(*call_args):
                yield _normalize(tuple(element) if isinstance(element, list) else element)

        return Dataset(make_iterator, UNKNOWN_CARDINALITY)

    @staticmethod
    def zip(*datasets):
        if len(datasets) == 1 and isinstance(datasets[0], tuple):
            datasets = datasets[0]
        cards = [d.cardinality() for d in datasets]
        finite = [c for c in cards if c >= 0]
        if finite:
            card = min(finite)
        else:
            card = UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in cards else INFINITE_CARDINALITY
        return Dataset(lambda: zip(*[iter(d) for d in datasets]), card)

    # -- iteration --------------------------------------------------------------------------
    def __iter__(self):
        return iter(self._make_iterator())

    def as_numpy_iterator(self):
        return iter(self)

    def cardinality(self):
        """Number of elements, or INFINITE_CARDINALITY (-1) / UNKNOWN_CARDINALITY (-2)."""
        return self._cardinality

    def __len__(self):
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __repr__(self):
        return f"<Dataset cardinality={self._cardinality}>"

    # -- transformations --------------------------------------------------------------------
    def _then(self, transform, cardinality):
        source = self
        return Dataset(lambda: transform(iter(source)), cardinality)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Stacks `batch_size` consecutive elements into one (the last may be smaller)."""
        batch_size = int(batch_size)
        if batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive integer, received {batch_size}.")

        def transform(it):
            buffer = []
            for element in it:
                buffer.append(element)
                if len(buffer) == batch_size:
                    yield _stack(buffer)
                    buffer = []
            if buffer and not drop_remainder:
                yield _stack(buffer)

        n = self._cardinality
        if n >= 0:
            n = n // batch_size if drop_remainder else math.ceil(n / batch_size)
        return self._then(transform, n)

    def unbatch(self, name=None):
        """Splits each element along its first dimension (the inverse of `batch`)."""

        def transform(it):
            for element in it:
                leaves = _leaves(element)
                for i in range(len(leaves[0]) if leaves else 0):
                    yield _map_structure(lambda a, i=i: a[i], element)

        n = INFINITE_CARDINALITY if self._cardinality == INFINITE_CARDINALITY \
            else UNKNOWN_CARDINALITY
        return self._then(transform, n)

    def repeat(self, count=None, name=None):
        """Repeats the dataset `count` times (forever when `count` is None or -1)."""
        source = self
        forever = count is None or count == -1

        def make_iterator():
            done = 0
            while forever or done < count:
                empty = True
                for element in source:
                    empty = False
                    yield element
                done += 1
                if empty:
                    return

        n = self._cardinality
        if n == 0:
            card = 0
        elif forever:
            card = INFINITE_CARDINALITY
        elif n >= 0:
            card = n * int(count)
        else:
            card = n
        return Dataset(make_iterator, card)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Samples uniformly from a buffer of `buffer_size` elements, as tf.data does."""
        buffer_size = int(buffer_size)
        if buffer_size <= 0 and buffer_size != AUTOTUNE:
            raise ValueError(f"`buffer_size` must be positive, received {buffer_size}.")
        source = self
        passes = [0]
        base_seed = seed if seed is not None else int(random_state.make_rng().integers(2**31))

        def make_iterator():
            pass_seed = [base_seed, passes[0]] if reshuffle_each_iteration else base_seed
            passes[0] += 1
            rng = np.random.default_rng(pass_seed)
            buffer = []
            for element in source:
                if len(buffer) < buffer_size:
                    buffer.append(element)
                    continue
                i = int(rng.integers(len(buffer)))
                yield buffer[i]
                buffer[i] = element
            while buffer:
                i = int(rng.integers(len(buffer)))
                buffer[i], buffer[-1] = buffer[-1], buffer[i]
                yield buffer.pop()

        return Dataset(make_iterator, self._cardinality)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies `map_func` to each element (a tuple element is passed as arguments)."""
        return self._then(lambda it: (_normalize(_as_tuple(_call(map_func, e))) for e in it),
                          self._cardinality)

    def filter(self, predicate, name=None):
        """Keeps the elements for which `predicate` is true."""
        def transform(it):
            for element in it:
                if bool(np.asarray(_to_numpy(_call(predicate, element)))):
                    yield element

        card = INFINITE_CARDINALITY if self._cardinality == INFINITE_CARDINALITY \
            else UNKNOWN_CARDINALITY
        return self._then(transform, card)

    def take(self, count, name=None):
        """The first `count` elements (all of them when `count` is -1)."""
        count = int(count)
        if count == -1:
            return self

        def transform(it):
            for i, element in enumerate(it):
                if i >= count:
                    return
                yield element

        n = self._cardinality
        card = count if n == INFINITE_CARDINALITY else (min(n, count) if n >= 0 else n)
        return self._then(transform, card)

    def skip(self, count, name=None):
        """All but the first `count` elements (none when `count` is -1)."""
        count = int(count)

        def transform(it):
            for i, element in enumerate(it):
                if count == -1 or i >= count:
                    if count == -1:
                        return
                    yield element

        n = self._cardinality
        card = 0 if count == -1 else (max(n - count, 0) if n >= 0 else n)
        return self._then(transform, card)

    def prefetch(self, buffer_size=AUTOTUNE, name=None):
        """A no-op here: elements are produced on demand in the same thread."""
        return self

    def cache(self, filename="", name=None):
        """Keeps the elements of the first complete pass in memory and replays them."""
        source = self
        store = []
        complete = [False]

        def make_iterator():
            if complete[0]:
                yield from store
                return
            store.clear()
            for element in source:
                store.append(element)
                yield element
            complete[0] = True

        return Dataset(make_iterator, self._cardinality)

    def concatenate(self, dataset, name=None):
        a, b = self._cardinality, dataset.cardinality()
        if INFINITE_CARDINALITY in (a, b):
            card = INFINITE_CARDINALITY
        elif UNKNOWN_CARDINALITY in (a, b):
            card = UNKNOWN_CARDINALITY
        else:
            card = a + b
        first = self

        def make_iterator():
            yield from first
            yield from dataset

        return Dataset(make_iterator, card)

    def enumerate(self, start=0, name=None):
        return self._then(lambda it: ((np.int64(i), e) for i, e in enumerate(it, start)),
                          self._cardinality)


def _as_tuple(value):
    return tuple(value) if isinstance(value, list) else value


def _stack(elements):
    def stack(parts):
        try:
            return np.stack([np.asarray(p) for p in parts])
        except ValueError as error:
            shapes = sorted({np.shape(p) for p in parts})
            raise ValueError(
                f"Cannot batch elements of different shapes {shapes}. Pad them first "
                "(e.g. `keras.preprocessing.sequence.pad_sequences`)."
            ) from error

    return _map_structure(stack, _zip_structures(elements))
