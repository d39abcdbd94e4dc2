"""Weight regularizers (`keras.regularizers`): penalties added to the loss via `model.losses`."""

from webkeras import ops
from webkeras.utils import serialization_lib


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _validate(name, value):
    value = float(value)
    if value < 0:
        raise ValueError(f"Value for argument {name} must be a non-negative float. "
                         f"Received: {name}={value}")
    return value


class L1L2(Regularizer):
    """`l1 * sum(|x|) + l2 * sum(x**2)`."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _validate("l1", l1), _validate("l2", l2)

    def __call__(self, x):
        loss = 0.0
        if self.l1:
            loss = loss + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            loss = loss + self.l2 * ops.sum(ops.square(x))
        return loss

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _validate("l1", l1)

    def __call__(self, x):
        return self.l1 * ops.sum(ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _validate("l2", l2)

    def __call__(self, x):
        return self.l2 * ops.sum(ops.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    def __init__(self, factor=0.01, mode="rows"):
        self.factor, self.mode = float(factor), mode

    def __call__(self, x):
        x = x if self.mode == "rows" else ops.transpose(x)
        norm = ops.sqrt(ops.sum(ops.square(x), axis=1, keepdims=True))
        x = x / ops.maximum(norm, 1e-12)
        product = ops.matmul(x, ops.transpose(x))
        size = x.shape[0]
        import numpy as np

        off_diagonal = product * ops.convert_to_tensor(1.0 - np.eye(size, dtype="float32"))
        return self.factor * ops.sum(ops.abs(off_diagonal)) / (size * (size - 1))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    """Keras's function form: both penalties default to 0.01."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "orthogonal_regularizer": OrthogonalRegularizer}
_BY_CLASS_NAME = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier["class_name"]].from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier.lower() in _BY_NAME:
            return _BY_NAME[identifier.lower()]()
        if identifier in _BY_CLASS_NAME:
            return _BY_CLASS_NAME[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")


def serialize(regularizer):
    if regularizer is None:
        return None
    if isinstance(regularizer, Regularizer):
        return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
                "config": regularizer.get_config(), "registered_name": None}
    return getattr(regularizer, "__name__", None)


deserialize = get


serialization_lib.register_namespace(("keras.regularizers",), objects=_BY_CLASS_NAME)
