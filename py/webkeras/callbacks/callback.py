"""Callback base class and the list that dispatches hooks to each callback."""


class Callback:
    """Base class for callbacks (`keras.callbacks.Callback`); every hook is a no-op."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params


_HOOKS = [
    f"on_{scope}_{when}"
    for scope in ("train", "test", "predict")
    for when in ("begin", "end", "batch_begin", "batch_end")
] + ["on_epoch_begin", "on_epoch_end"]


def _no_op(self, *args, **kwargs):
    pass


for _hook in _HOOKS:
    setattr(Callback, _hook, _no_op)


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        if hook not in _HOOKS:
            raise AttributeError(hook)

        def call_all(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)

        return call_all
