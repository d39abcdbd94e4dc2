"""ModelCheckpoint: save the model or its weights during training, atomically."""

import os
import warnings

import numpy as np

from webkeras.callbacks.callback import Callback
from webkeras.callbacks.monitor import as_float
from webkeras.utils.file_utils import atomic_write


class ModelCheckpoint(Callback):
    """Saves the model (`.keras`) or its weights (`.weights.h5`) at some frequency.

    Args:
        filepath: path, may hold `str.format` fields filled from `epoch` (from 1) and the
            epoch's logs, e.g. "weights.{epoch:02d}-{val_loss:.2f}.weights.h5".
        monitor: the log to compare when `save_best_only` (default "val_loss").
        verbose: 1 prints a message on each save.
        save_best_only: save only when `monitor` improves (the latest best model is kept).
        save_weights_only: `model.save_weights(path)` (path must end in `.weights.h5`)
            instead of `model.save(path)` (`.keras`).
        mode: "min", "max" or "auto" ("max" when the monitor's name contains "acc").
        save_freq: "epoch", or an integer number of batches.
        initial_value_threshold: a best value to beat before the first save.

    Example:
    ```python
    checkpoint = keras.callbacks.ModelCheckpoint(
        "best.weights.h5", save_best_only=True, save_weights_only=True)
    model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[checkpoint])
    model.load_weights("best.weights.h5")
    ```
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.monitor = monitor
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._current_epoch = 0
        self.best = initial_value_threshold
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode '{mode}' is unknown, fallback to auto mode.",
                          stacklevel=2)
            mode = "auto"
        if mode == "max" or (mode == "auto" and ("acc" in self.monitor
                                                 or self.monitor.startswith("fmeasure"))):
            self.monitor_op = np.greater
            self.best = -np.inf if self.best is None else self.best
        else:
            self.monitor_op = np.less
            self.best = np.inf if self.best is None else self.best
        if self.save_freq != "epoch" and not isinstance(self.save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {self.save_freq}. Expected save_freq "
                             "are 'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}"
                )
        elif not any(self.filepath.endswith(ext) for ext in (".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                             f"Received: filepath={self.filepath}")

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, "
                              "skipping.", stacklevel=2)
                return
            current = as_float(current)
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                      f"to {current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        if self.save_weights_only:
            atomic_write(filepath, lambda path: self.model.save_weights(path, overwrite=True))
        else:
            if not hasattr(self.model, "save"):
                raise NotImplementedError(
                    "ModelCheckpoint(save_weights_only=False) needs `model.save()`, which "
                    "this model does not have yet. Pass `save_weights_only=True` and a "
                    "'.weights.h5' filepath."
                )
            atomic_write(filepath, lambda path: self.model.save(path, overwrite=True))

    def _get_file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from None
