"""Metric base class and the mean/sum accumulators every function metric builds on."""

from webkeras import initializers, ops
from webkeras.losses.loss import squeeze_or_expand_to_same_rank
from webkeras.ops.tensor import Variable
from webkeras.utils.naming import to_snake_case


class Metric:
    """Base class of stateful metrics (`keras.metrics.Metric`).

    Subclasses create state with `add_variable` in `__init__`, and implement `update_state`
    and `result`. State lives in Variables on the active device: nothing is read back to
    the host until the caller converts `result()`.

    Example:
    ```python
    class Total(keras.metrics.Metric):
        def __init__(self, name="total", **kwargs):
            super().__init__(name=name, **kwargs)
            self.total = self.add_variable(shape=(), initializer="zeros", name="total")

        def update_state(self, values, sample_weight=None):
            self.total.assign(self.total + keras.ops.sum(values))

        def result(self):
            return self.total
    ```
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = dtype or "float32"
        self._variables = []
        self._metrics = []

    @property
    def dtype(self):
        return self._dtype

    def __setattr__(self, name, value):
        # Sub-metrics assigned as attributes contribute their variables (Keras's tracker).
        if isinstance(value, Metric) and name != "_metrics" and hasattr(self, "_metrics"):
            self._metrics.append(value)
        super().__setattr__(name, value)

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        if not hasattr(self, "_variables"):
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` "
                               "method of your Metric. Go add it!")
        variable = Variable(initializers.get(initializer or "zeros"), shape=tuple(shape),
                            dtype=dtype or self.dtype, trainable=False, name=name)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def reset_state(self):
        for v in self.variables:
            v.assign(ops.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def snapshot(x):
    """A new tensor with `x`'s current value: a Variable (or a reshape of one) shares the
    buffer that the next `assign` overwrites in place."""
    return ops.add(x, 0)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weight values, and reduce every axis past the first (Keras's reduction_metrics)."""
    values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.ndim, values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """Running (weighted) sum of the values it is given."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.sum, self.dtype)
        self.total.assign(self.total + ops.sum(values))

    def result(self):
        return snapshot(ops.cast(self.total, self.dtype))


class Mean(Metric):
    """Running (weighted) mean of the values it is given."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, ops.mean, self.dtype)
        self.total.assign(self.total + ops.sum(values))
        if sample_weight is not None:
            num_samples = ops.sum(sample_weight)
        else:
            num_samples = float(values.shape[0]) if values.ndim >= 1 else 1.0
        self.count.assign(self.count + num_samples)

    def result(self):
        return ops.divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Mean of `fn(y_true, y_pred, **kwargs)` over every sample seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), "fn": getattr(self._fn, "__name__", None),
                **self._fn_kwargs}
