"""ProgbarLogger: prints `Epoch i/n` and the progress bar (verbose=1) or one line (verbose=2)."""

import sys

from webkeras.callbacks.callback import Callback
from webkeras.utils.progbar import Progbar


class ProgbarLogger(Callback):
    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.params.get("epochs", 1) > 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}\n")
            sys.stdout.flush()
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose)
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(self.seen, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose == 2:
            self.progbar.verbose = 1
        self.progbar.update(self.seen, logs, finalize=True)
