"""keras.losses: loss functions, Loss classes and `get` (Keras 3 names and aliases)."""

import inspect

from webkeras.losses.loss import Loss, LossFunctionWrapper  # noqa: F401
from webkeras.losses.losses import (  # noqa: F401
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
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
from webkeras.utils import serialization_lib

# Short aliases, as `keras.losses.mse` etc.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

_CLASSES = (
    Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCosh, Huber,
    Hinge, SquaredHinge, CategoricalHinge,
)
_FUNCTIONS = (
    kl_divergence, poisson, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, mean_squared_error, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_logarithmic_error, cosine_similarity, log_cosh,
    huber, hinge, squared_hinge, categorical_hinge,
)
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    # Names that Keras 2 and the class defaults use.
    "huber_loss": huber, "logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence,
})


def get(identifier):
    """A Loss object for a name, config dict, class, instance or function.

    Names are Keras 3's (case-sensitive, as in Keras): function names
    ('categorical_crossentropy'), class names ('CategoricalCrossentropy') and the aliases
    'mse', 'mae', 'mape', 'msle', 'kld', 'bce', 'huber_loss', 'logcosh'.

    Unlike Keras (which returns the bare function for a function name), a function is wrapped
    in a `LossFunctionWrapper` named after it, so the result is always called as
    `loss(y_true, y_pred, sample_weight=None)` and returns the reduced loss.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    obj = identifier
    if isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            obj = ALL_OBJECTS_DICT.get(identifier.lower())
        if obj is None:
            raise ValueError(
                f"Unknown loss: received '{identifier}'. Expected one of "
                f"{sorted(ALL_OBJECTS_DICT)}, a keras.losses.Loss instance or a function "
                "(y_true, y_pred) -> per-sample loss."
            )
    if inspect.isclass(obj):
        if not issubclass(obj, Loss):
            raise ValueError(f"Could not interpret loss identifier: {identifier!r} "
                             "(a class must subclass keras.losses.Loss).")
        return obj()
    if callable(obj):
        name = obj.__name__ if obj in _FUNCTIONS else getattr(obj, "__name__", None)
        return LossFunctionWrapper(obj, name=name)
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a string name, a "
        "keras.losses.Loss, or a function (y_true, y_pred) -> per-sample loss."
    )


def serialize(loss):
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    return getattr(loss, "__name__", None)


def deserialize(config, custom_objects=None):
    if isinstance(config, str):
        return get(config)
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or ALL_OBJECTS_DICT.get(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown loss class '{class_name}'. Pass it in "
            f"`custom_objects={{'{class_name}': {class_name}}}`."
        )
    if not inspect.isclass(cls):
        return LossFunctionWrapper(cls)
    return cls.from_config(dict(config.get("config", {})))


serialization_lib.register_namespace(("keras.losses",), objects=ALL_OBJECTS_DICT)
