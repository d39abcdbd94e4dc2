"""History: the object `fit` returns, with `.history`, `.params` and `.epoch`."""

from webkeras.callbacks.callback import Callback


class History(Callback):
    """Records every epoch's logs: `history.history["loss"]` is the loss per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
