"""keras.metrics: stateful metrics whose state stays on the device until `result()`."""

import inspect

from webkeras.losses import (  # noqa: F401  (loss functions double as metric functions)
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from webkeras.metrics.accuracy import (  # noqa: F401
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from webkeras.metrics.confusion import (  # noqa: F401
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from webkeras.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum  # noqa: F401
from webkeras.metrics.regression import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from webkeras.utils import serialization_lib
from webkeras.utils.naming import to_snake_case

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error

_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
    Poisson, Hinge, SquaredHinge, CategoricalHinge, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError,
    CosineSimilarity, LogCoshError,
)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "auc": AUC, "logcosh": LogCoshError, "kld": KLDivergence,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
})


def get(identifier, loss_name=None, y_true_shape=None, y_pred_shape=None):
    """A Metric for a name, function, class or instance.

    Strings resolve as in Keras 3 (class names, their snake_case forms, 'mse', 'mae', 'mape',
    'msle', 'bce', 'auc'...), and the metric keeps the string as its name, as `compile` does.
    'accuracy'/'acc' resolve from the loss and the shapes to binary, categorical or sparse
    categorical accuracy. Functions are wrapped in a `MeanMetricWrapper`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if inspect.isclass(identifier):
        if not issubclass(identifier, Metric):
            raise ValueError(f"Could not interpret metric identifier: {identifier!r} "
                             "(a class must subclass keras.metrics.Metric).")
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            fn = _resolve_accuracy(loss_name, y_true_shape, y_pred_shape)
            return MeanMetricWrapper(fn, name=identifier)
        obj = ALL_OBJECTS_DICT.get(identifier) or ALL_OBJECTS_DICT.get(identifier.lower())
        if obj is None:
            raise ValueError(
                f"Unknown metric: received '{identifier}'. Expected one of "
                f"{sorted(set(ALL_OBJECTS_DICT) | {'accuracy', 'acc'})}, a "
                "keras.metrics.Metric instance or a function (y_true, y_pred) -> values."
            )
        metric = obj()
        metric.name = identifier
        return metric
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or ALL_OBJECTS_DICT.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown metric class '{class_name}'. Pass it in "
                         f"`custom_objects={{'{class_name}': {class_name}}}`.")
    return cls.from_config(dict(config.get("config", {})))


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


serialization_lib.register_namespace(("keras.metrics",), objects=ALL_OBJECTS_DICT)
