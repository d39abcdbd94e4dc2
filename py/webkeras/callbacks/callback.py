"""The Callback base class (`keras.callbacks.Callback`): every hook, each a no-op."""


class Callback:
    """Base class of callbacks: override the hooks you need.

    `self.model` is the model being trained and `self.params` holds `verbose`, `epochs` and
    `steps`. Epoch and test-end logs hold floats; `on_train_batch_end` logs hold floats too
    (read back only when some callback overrides a batch hook).

    Example:
    ```python
    class PrintDot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(".", end="")
    ```
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None):
        """A backwards-compatibility alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards-compatibility alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass
