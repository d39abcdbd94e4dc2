"""CallbackList: dispatches every hook to each callback, adding History and the progress bar.

Batch logs arrive as tensors; they are read back to floats only for callbacks that override
a batch hook (ProgbarLogger reads them itself, only when it redraws).
"""

import numpy as np

from webkeras.callbacks.callback import Callback
from webkeras.callbacks.history import History
from webkeras.callbacks.progbar_logger import ProgbarLogger
from webkeras.ops.tensor import numpy_values

_BATCH_ALIASES = {
    "on_train_batch_begin": ("on_train_batch_begin", "on_batch_begin"),
    "on_train_batch_end": ("on_train_batch_end", "on_batch_end"),
    "on_test_batch_begin": ("on_test_batch_begin",),
    "on_test_batch_end": ("on_test_batch_end",),
    "on_predict_batch_begin": ("on_predict_batch_begin",),
    "on_predict_batch_end": ("on_predict_batch_end",),
}


def _overrides(callback, hooks):
    return any(hook in vars(callback) or getattr(type(callback), hook) is not
               getattr(Callback, hook) for hook in hooks)


def _to_floats(logs):
    """Tensor logs -> floats, read back together (one readback for the step)."""
    out = {}
    logs = logs or {}
    for key, value in zip(logs, numpy_values(logs.values())):
        try:
            out[key] = float(np.asarray(value))
        except (TypeError, ValueError):
            out[key] = value
    return out


class CallbackList(Callback):
    """A container of callbacks (`keras.callbacks.CallbackList`)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = []
        for callback in callbacks or []:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"Expected every callback to be a keras.callbacks.Callback instance, "
                    f"received {callback!r} of type {type(callback).__name__}."
                )
            self.callbacks.append(callback)
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.insert(0, self._progbar)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook, *args, logs=None):
        # Keras passes a dict to every hook, never None (guides call `logs.keys()`).
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def _call_batch(self, hook, batch, logs):
        logs = {} if logs is None else logs
        floats = None
        for callback in self.callbacks:
            if getattr(callback, "_reads_tensor_logs", False):
                getattr(callback, hook)(batch, logs)
            elif _overrides(callback, _BATCH_ALIASES[hook]):
                if floats is None:
                    floats = _to_floats(logs)
                getattr(callback, hook)(batch, floats)

    def on_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, logs)


def _make_batch_hook(hook):
    def dispatch(self, batch, logs=None):
        self._call_batch(hook, batch, logs)

    dispatch.__name__ = hook
    return dispatch


def _make_hook(hook):
    def dispatch(self, logs=None):
        self._call(hook, logs=logs)

    dispatch.__name__ = hook
    return dispatch


for _hook in _BATCH_ALIASES:
    setattr(CallbackList, _hook, _make_batch_hook(_hook))
for _hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
              "on_predict_begin", "on_predict_end"):
    setattr(CallbackList, _hook, _make_hook(_hook))


def _on_epoch_begin(self, epoch, logs=None):
    self._call("on_epoch_begin", epoch, logs=logs)


def _on_epoch_end(self, epoch, logs=None):
    self._call("on_epoch_end", epoch, logs=logs)


CallbackList.on_epoch_begin = _on_epoch_begin
CallbackList.on_epoch_end = _on_epoch_end
