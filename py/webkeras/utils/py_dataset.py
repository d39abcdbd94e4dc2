"""PyDataset (alias Sequence): a dataset defined by `__len__` and `__getitem__`."""

import warnings


class PyDataset:
    """Base class for Python data loaders: batch `i` is `self[i]`.

    Subclasses implement `__getitem__(index)` returning `x`, `(x, y)` or
    `(x, y, sample_weight)` for one batch, and `__len__()` (the number of batches; leave it
    out for an endless dataset, then pass `steps_per_epoch`). `on_epoch_end()` runs after
    each epoch, e.g. to reshuffle. Batches are produced in the calling thread: `workers` and
    `use_multiprocessing` are accepted for compatibility and ignored.

    Example:
    ```python
    class Batches(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, idx):
            low = idx * self.batch_size
            return self.x[low:low + self.batch_size], self.y[low:low + self.batch_size]

    model.fit(Batches(x, y, 32), epochs=3)
    ```
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        if not hasattr(self, "_workers"):
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor.", stacklevel=2)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__`.")

    @property
    def num_batches(self):
        """`len(self)`, or None (endless) when `__len__` is not defined."""
        if hasattr(self, "__len__"):
            return len(self)
        return None

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset
