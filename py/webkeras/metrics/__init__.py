"""Metrics: stateful accumulators whose state stays on the device until `result()`."""

from webkeras import ops
from webkeras.backend import Variable


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    predicted = ops.argmax(y_pred, axis=-1)
    return ops.cast(ops.equal(predicted, ops.cast(y_true, "int32")), "float32")


def categorical_accuracy(y_true, y_pred):
    return ops.cast(
        ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)), "float32"
    )


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = ops.convert_to_tensor(y_pred)
    predicted = ops.cast(ops.greater(y_pred, threshold), y_pred.dtype)
    return ops.mean(ops.cast(ops.equal(ops.cast(y_true, y_pred.dtype), predicted), "float32"),
                    axis=-1)


class Metric:
    """Base class: `update_state`, `result`, `reset_state` (`keras.metrics.Metric`)."""

    def __init__(self, name=None, dtype="float32"):
        self.name = name or type(self).__name__.lower()
        self.dtype = dtype
        self._variables = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, name=None):
        from webkeras import initializers

        v = Variable(initializers.get(initializer), shape=shape, dtype=dtype or self.dtype,
                     trainable=False, name=name)
        self._variables.append(v)
        return v

    add_weight = add_variable

    @property
    def variables(self):
        return list(self._variables)

    def reset_state(self):
        for v in self._variables:
            v.assign(ops.zeros(v.shape, v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Mean(Metric):
    """Running (weighted) mean of the values it is given."""

    def __init__(self, name="mean", dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values, sample_weight=None):
        values = ops.cast(values, self.dtype)
        if sample_weight is not None:
            weight = ops.cast(sample_weight, self.dtype)
            self.total.assign(self.total + ops.sum(values * weight))
            self.count.assign(self.count + ops.sum(ops.ones_like(values) * weight))
        else:
            self.total.assign(self.total + ops.sum(values))
            self.count.assign(self.count + float(ops.size(values)))

    def result(self):
        return self.total / ops.maximum(self.count, 1e-12)


class MeanMetricWrapper(Mean):
    """Mean of `fn(y_true, y_pred)` over every sample seen."""

    def __init__(self, fn, name=None, dtype="float32", **fn_kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = fn_kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype="float32"):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype="float32"):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype="float32", threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


_BY_NAME = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
}


def get(identifier, loss_name=None, y_true_shape=None, y_pred_shape=None):
    """A Metric for a name, function, class or instance.

    'accuracy'/'acc' resolve, as in Keras, from the loss and the shapes: binary, categorical or
    sparse categorical accuracy — and keep the name they were given.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            fn = _resolve_accuracy(loss_name, y_true_shape, y_pred_shape)
            return MeanMetricWrapper(fn, name=identifier)
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(
                f"Unknown metric: received '{identifier}'. Expected one of "
                f"{sorted(_BY_NAME) + ['accuracy', 'acc']}, a keras.metrics.Metric or a function."
            )
        return MeanMetricWrapper(fn, name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _resolve_accuracy(loss_name, y_true_shape, y_pred_shape):
    if loss_name and "binary" in loss_name:
        return binary_accuracy
    if y_pred_shape is not None and (len(y_pred_shape) < 2 or y_pred_shape[-1] == 1):
        return binary_accuracy
    if loss_name and "sparse" in loss_name:
        return sparse_categorical_accuracy
    if y_true_shape is not None and y_pred_shape is not None:
        if len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == y_pred_shape[-1]:
            return categorical_accuracy
        return sparse_categorical_accuracy
    return categorical_accuracy
