"""EpochIterator: the batches of one epoch, with Keras's `steps_per_epoch` semantics.

Without `steps`, each epoch runs the data once. With `steps`, an epoch takes that many
batches and the next epoch continues where it stopped (restarting finite data once it is
used up), as Keras 3 does. A source of unknown size that runs dry ends training with a
warning (`ran_out_of_data`).
"""

import warnings

from webkeras.trainers.data_adapter import get_data_adapter


class EpochIterator:
    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None):
        if steps_per_epoch is not None and int(steps_per_epoch) <= 0:
            raise ValueError(f"`steps_per_epoch` must be a positive integer or None, "
                             f"received steps_per_epoch={steps_per_epoch}")
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.data_adapter = get_data_adapter(x, y, sample_weight, batch_size, shuffle,
                                             class_weight)
        if self.data_adapter.infinite and self.steps_per_epoch is None:
            raise ValueError(
                "When passing an infinitely repeating dataset, please specify a "
                "`steps_per_epoch` value (or `steps` / `validation_steps`) so that epoch level "
                "callbacks continue to work. The value can be arbitrary, or a number that you "
                "think correctly defines the size of an epoch."
            )
        self._iterator = None
        self._steps_seen = 0
        self.ran_out_of_data = False

    @property
    def num_batches(self):
        """Steps per epoch when known: `steps_per_epoch`, else the data's batch count."""
        return self.steps_per_epoch or self.data_adapter.num_batches

    def _new_iterator(self):
        self._steps_seen = 0
        return iter(self.data_adapter.get_numpy_iterator())

    def enumerate_epoch(self):
        """Yields `(step, (x, y, sample_weight))` host batches for one epoch."""
        self.data_adapter.on_epoch_begin()
        known = self.data_adapter.num_batches
        exhausted = known and self._steps_seen >= known
        if self._iterator is None or self.steps_per_epoch is None or exhausted:
            self._iterator = self._new_iterator()
        step = 0
        while self.steps_per_epoch is None or step < self.steps_per_epoch:
            if self.steps_per_epoch is not None and known and self._steps_seen >= known:
                # Finite data shorter than the requested steps: a short epoch, as in Keras.
                self._warn_interrupted()
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if self.steps_per_epoch is not None or step == 0:
                    self._warn_interrupted()
                    self.ran_out_of_data = known is None
                break
            self._steps_seen += 1
            yield step, batch
            step += 1
        self.data_adapter.on_epoch_end()

    def _warn_interrupted(self):
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset "
            "or generator can generate at least `steps_per_epoch * epochs` batches. You may "
            "need to use the `.repeat()` function when building your dataset.",
            stacklevel=3,
        )
