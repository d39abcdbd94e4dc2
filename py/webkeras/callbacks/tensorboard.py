"""TensorBoard: epoch scalars in event files that the real TensorBoard reads."""

import os
import warnings

from webkeras.callbacks.callback import Callback
from webkeras.utils.event_file import EventFileWriter


class TensorBoard(Callback):
    """Logs metrics for TensorBoard, laid out as Keras lays them out.

    Training scalars go to `<log_dir>/train` and validation scalars to
    `<log_dir>/validation`, tagged `epoch_<name>` (e.g. `epoch_loss`, `epoch_accuracy`,
    `epoch_learning_rate`) with the epoch as step. With `update_freq=N` (batches), training
    batches also log `batch_<name>` every N batches. Run `tensorboard --logdir <log_dir>`.

    Only scalars are written: histograms, images, graphs and profiling are not supported.

    Example:
    ```python
    model.fit(x, y, epochs=5, callbacks=[keras.callbacks.TensorBoard(log_dir="./logs")])
    ```
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        if histogram_freq or write_images or embeddings_freq or profile_batch:
            warnings.warn("TensorBoard: only scalar summaries are written; histogram_freq, "
                          "write_images, embeddings_freq and profile_batch are ignored.",
                          stacklevel=2)
        if update_freq == "batch":
            update_freq = 1
        self.update_freq = update_freq
        self.write_steps_per_second = write_steps_per_second
        self._train_writer = None
        self._val_writer = None
        self._global_train_batch = 0

    @property
    def _train_dir(self):
        return os.path.join(self.log_dir, "train")

    @property
    def _val_dir(self):
        return os.path.join(self.log_dir, "validation")

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._train_writer = EventFileWriter(self._train_dir)
        self._val_writer = EventFileWriter(self._val_dir)

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq == "epoch" or self._train_writer is None:
            return
        if self._global_train_batch % self.update_freq == 0:
            for name, value in (logs or {}).items():
                self._train_writer.scalar(f"batch_{name}", value, self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        if not logs or self._train_writer is None:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = float(optimizer.learning_rate)
        for name, value in train_logs.items():
            self._train_writer.scalar(f"epoch_{name}", value, epoch)
        for name, value in val_logs.items():
            self._val_writer.scalar(f"epoch_{name}", value, epoch)
        self._train_writer.flush()
        self._val_writer.flush()

    def on_train_end(self, logs=None):
        for writer in (self._train_writer, self._val_writer):
            if writer is not None:
                writer.close()
