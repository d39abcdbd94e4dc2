"""Losses by name, class or function (Keras 3 names; reduction 'sum_over_batch_size')."""

from webkeras import ops


def mean_squared_error(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.mean(ops.square(ops.cast(y_true, y_pred.dtype) - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.mean(ops.abs(ops.cast(y_true, y_pred.dtype) - y_pred), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)


mse, mae = mean_squared_error, mean_absolute_error


class Loss:
    """Wraps a per-sample loss function and reduces it over the batch."""

    def __init__(self, fn=None, name=None, reduction="sum_over_batch_size", **fn_kwargs):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "loss")
        self.reduction = reduction
        self.fn_kwargs = fn_kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            values = values * ops.cast(sample_weight, values.dtype)
        if self.reduction in (None, "none"):
            return values
        if self.reduction == "sum":
            return ops.sum(values)
        return ops.mean(values)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}


def _loss_class(fn, class_name, default_name):
    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=default_name):
        kwargs = {"from_logits": from_logits} if "crossentropy" in default_name else {}
        Loss.__init__(self, fn, name=name, reduction=reduction, **kwargs)

    return type(class_name, (Loss,), {"__init__": __init__})


SparseCategoricalCrossentropy = _loss_class(
    sparse_categorical_crossentropy, "SparseCategoricalCrossentropy",
    "sparse_categorical_crossentropy")
CategoricalCrossentropy = _loss_class(
    categorical_crossentropy, "CategoricalCrossentropy", "categorical_crossentropy")
BinaryCrossentropy = _loss_class(binary_crossentropy, "BinaryCrossentropy", "binary_crossentropy")
MeanSquaredError = _loss_class(mean_squared_error, "MeanSquaredError", "mean_squared_error")
MeanAbsoluteError = _loss_class(mean_absolute_error, "MeanAbsoluteError", "mean_absolute_error")

_BY_NAME = {
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
}


def get(identifier):
    """A Loss object for a name, class, instance or function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(
                f"Unknown loss: received '{identifier}'. Expected one of {sorted(_BY_NAME)}, "
                "a keras.losses.Loss or a function (y_true, y_pred) -> loss."
            )
        return Loss(fn, name=identifier.lower() if identifier.lower() not in ("mse", "mae")
                    else fn.__name__)
    if callable(identifier):
        return Loss(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
