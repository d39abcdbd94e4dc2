"""LambdaCallback: a callback built from plain functions."""

from webkeras.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Calls the given functions at the matching hooks.

    `on_epoch_begin`/`on_epoch_end` take `(epoch, logs)`, `on_train_batch_*` (and the older
    `on_batch_*`, passed as keyword arguments) take `(batch, logs)`, `on_train_begin` /
    `on_train_end` take `(logs)`.

    Example:
    ```python
    print_batch = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    ```
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {
            "on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin, "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
