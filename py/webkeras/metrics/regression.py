"""Loss functions as metrics: regression, probabilistic and hinge metric classes."""

from webkeras import ops
from webkeras import losses as L
from webkeras.losses.loss import squeeze_or_expand_to_same_rank
from webkeras.metrics.metric import Mean, MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity (positive, unlike the loss of the same name)."""
    return -L.cosine_similarity(y_true, y_pred, axis=axis)


def _simple(fn, class_name, default_name):
    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__,
                                                   "get_config": get_config})


MeanSquaredError = _simple(L.mean_squared_error, "MeanSquaredError", "mean_squared_error")
MeanAbsoluteError = _simple(L.mean_absolute_error, "MeanAbsoluteError", "mean_absolute_error")
MeanAbsolutePercentageError = _simple(L.mean_absolute_percentage_error,
                                      "MeanAbsolutePercentageError",
                                      "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _simple(L.mean_squared_logarithmic_error,
                                      "MeanSquaredLogarithmicError",
                                      "mean_squared_logarithmic_error")
LogCoshError = _simple(L.log_cosh, "LogCoshError", "logcosh")
KLDivergence = _simple(L.kl_divergence, "KLDivergence", "kl_divergence")
Poisson = _simple(L.poisson, "Poisson", "poisson")
Hinge = _simple(L.hinge, "Hinge", "hinge")
SquaredHinge = _simple(L.squared_hinge, "SquaredHinge", "squared_hinge")
CategoricalHinge = _simple(L.categorical_hinge, "CategoricalHinge", "categorical_hinge")


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return ops.sqrt(super().result())


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(L.binary_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(L.categorical_crossentropy, name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(L.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
