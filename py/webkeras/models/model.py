"""keras.Model: a Layer that trains. Subclass it, or call Model(inputs, outputs)."""

from webkeras.layers.layer import Layer
from webkeras.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    `Model(inputs, outputs)` builds a functional model; a subclass defines `call`.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs):
            from webkeras.models.functional import Functional

            return Functional(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        kwargs.pop("inputs", None)
        kwargs.pop("outputs", None)
        Layer.__init__(self, **kwargs)

    def __call__(self, inputs, *args, **kwargs):
        if "training" in kwargs and not _accepts_training(self.call):
            kwargs.pop("training")
        return super().__call__(inputs, *args, **kwargs)

    @property
    def layers(self):
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
        )

    def summary(self, line_length=None, print_fn=None):
        from webkeras.utils.summary_utils import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn)


def _accepts_training(call):
    import inspect

    try:
        params = inspect.signature(call).parameters
    except (TypeError, ValueError):
        return True
    return "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
