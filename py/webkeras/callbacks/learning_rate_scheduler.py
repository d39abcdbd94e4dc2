"""LearningRateScheduler: set the learning rate from `schedule(epoch, lr)` each epoch."""

import numpy as np

from webkeras.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """At the start of each epoch, sets the learning rate to `schedule(epoch, lr)`.

    Args:
        schedule: a function `(epoch, lr) -> new lr` (or `(epoch) -> new lr`), epochs from 0.
        verbose: 1 prints each update.

    Example:
    ```python
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * math.exp(-0.1)

    model.fit(x, y, epochs=15, callbacks=[keras.callbacks.LearningRateScheduler(scheduler)])
    ```
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # Support for the old API (schedule(epoch) only).
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
