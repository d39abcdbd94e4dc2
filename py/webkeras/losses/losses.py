"""Keras 3 loss functions (per-sample values) and their Loss classes."""

import math

from webkeras import backend, ops
from webkeras.losses.loss import (
    Loss,
    LossFunctionWrapper,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
)


def _prepare(y_true, y_pred, fn_name):
    """Tensors of one float dtype, ranks aligned, shapes checked for broadcasting."""
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.dtype not in ("float32", "float64"):
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _check_shapes(y_true, y_pred, fn_name)
    return y_true, y_pred


def _check_shapes(y_true, y_pred, fn_name):
    try:
        ops.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            f"{fn_name}: `y_true` and `y_pred` have incompatible shapes: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}. They must be equal "
            "(or broadcastable): check the model's output size against the targets."
        ) from None


# -- regression --------------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_absolute_percentage_error")
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), backend.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "mean_squared_logarithmic_error")
    first_log = ops.log(ops.maximum(y_pred, backend.epsilon()) + 1.0)
    second_log = ops.log(ops.maximum(y_true, backend.epsilon()) + 1.0)
    return ops.mean(ops.square(first_log - second_log), axis=-1)


def l2_normalize(x, axis=-1):
    """x / max(||x||, epsilon), as Keras's `x * min(rsqrt(sum(x^2)), 1 / epsilon)`."""
    inv_norm = 1.0 / ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x * ops.minimum(inv_norm, 1.0 / backend.epsilon())


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _prepare(y_true, y_pred, "cosine_similarity")
    return -ops.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = _prepare(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = ops.abs(error)
    delta = float(delta)
    quadratic = 0.5 * ops.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0) - math.log(2.0), axis=-1)


# -- hinge -------------------------------------------------------------------------------------
def _binary_labels_to_hinge(y_true):
    # Keras turns {0, 1} labels into {-1, 1} only when every label is 0 or 1; computed on the
    # device (no readback) as a 0/1 scalar that selects between the two forms.
    is_binary = ops.cast(ops.equal(y_true, 0.0), y_true.dtype) + ops.cast(
        ops.equal(y_true, 1.0), y_true.dtype)
    all_binary = ops.min(is_binary) if ops.size(y_true) else 1.0
    return y_true + all_binary * (y_true - 1.0)


def hinge(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "hinge")
    y_true = _binary_labels_to_hinge(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "squared_hinge")
    y_true = _binary_labels_to_hinge(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# -- probabilistic -----------------------------------------------------------------------------
def kl_divergence(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "kl_divergence")
    y_true = ops.clip(y_true, backend.epsilon(), 1.0)
    y_pred = ops.clip(y_pred, backend.epsilon(), 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _prepare(y_true, y_pred, "poisson")
    return ops.mean(y_pred - y_true * ops.log(y_pred + backend.epsilon()), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _prepare(y_true, y_pred, "binary_crossentropy")
    if y_true.shape != y_pred.shape:
        y_true = ops.broadcast_to(y_true, ops.broadcast_shapes(y_true.shape, y_pred.shape))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def _check_class_axis(axis, y_pred):
    """The cross-entropies take the class axis last only (what Keras 3's ops support)."""
    if isinstance(axis, bool) or axis not in (-1, len(ops.shape(y_pred)) - 1):
        raise ValueError(f"`axis` must be the last axis (-1). Received: axis={axis}")


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    _check_class_axis(axis, y_pred)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_crossentropy: `y_true` and `y_pred` must have the same shape "
            f"(one-hot targets). Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}. For integer class targets use "
            "sparse_categorical_crossentropy."
        )
    if label_smoothing:
        num_classes = float(y_true.shape[-1])
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    _check_class_axis(axis, y_pred)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_crossentropy: `y_true` must hold one class index per sample, "
            f"with shape y_pred.shape[:-1]. Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}. For one-hot targets use categorical_crossentropy."
        )
    if ignore_class is None:
        return ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
    valid = ops.not_equal(ops.cast(y_true, "int32"), int(ignore_class))
    y_true = ops.where(valid, ops.cast(y_true, "int32"), 0)
    # Keras puts 0 in the ignored rows (0/0 = NaN when renormalised); 1 keeps them finite.
    y_pred = ops.where(ops.expand_dims(valid, -1), y_pred, 1.0)
    res = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
    return ops.where(valid, res, 0.0)


# -- classes -----------------------------------------------------------------------------------
def _wrapper_class(fn, class_name, default_name, doc):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    return type(class_name, (LossFunctionWrapper,),
                {"__init__": __init__, "get_config": get_config, "__doc__": doc})


MeanSquaredError = _wrapper_class(
    mean_squared_error, "MeanSquaredError", "mean_squared_error",
    "Mean of squares of errors: `loss = mean(square(y_true - y_pred))`.")
MeanAbsoluteError = _wrapper_class(
    mean_absolute_error, "MeanAbsoluteError", "mean_absolute_error",
    "Mean of absolute errors: `loss = mean(abs(y_true - y_pred))`.")
MeanAbsolutePercentageError = _wrapper_class(
    mean_absolute_percentage_error, "MeanAbsolutePercentageError",
    "mean_absolute_percentage_error",
    "`loss = 100 * mean(abs((y_true - y_pred) / y_true))`.")
MeanSquaredLogarithmicError = _wrapper_class(
    mean_squared_logarithmic_error, "MeanSquaredLogarithmicError",
    "mean_squared_logarithmic_error",
    "`loss = mean(square(log(y_true + 1) - log(y_pred + 1)))`.")
LogCosh = _wrapper_class(log_cosh, "LogCosh", "log_cosh",
                         "Logarithm of the hyperbolic cosine of the prediction error.")
Hinge = _wrapper_class(hinge, "Hinge", "hinge", "`loss = maximum(1 - y_true * y_pred, 0)`.")
SquaredHinge = _wrapper_class(squared_hinge, "SquaredHinge", "squared_hinge",
                              "`loss = square(maximum(1 - y_true * y_pred, 0))`.")
CategoricalHinge = _wrapper_class(categorical_hinge, "CategoricalHinge", "categorical_hinge",
                                  "`loss = maximum(neg - pos + 1, 0)`.")
KLDivergence = _wrapper_class(kl_divergence, "KLDivergence", "kl_divergence",
                              "`loss = y_true * log(y_true / y_pred)`.")
Poisson = _wrapper_class(poisson, "Poisson", "poisson",
                         "`loss = y_pred - y_true * log(y_pred)`.")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between labels and predictions, along `axis`."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=axis)

    def get_config(self):
        return Loss.get_config(self)


class Huber(LossFunctionWrapper):
    """Quadratic for |error| <= delta, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)

    def get_config(self):
        return Loss.get_config(self)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy for 0/1 labels and probabilities (or logits with `from_logits=True`).

    Example:
    ```python
    loss = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    loss([[0.0, 1.0]], [[-2.0, 3.0]])
    ```
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class labels."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.ignore_class is None:
            return super().__call__(y_true, y_pred, sample_weight)
        # Keras masks the ignored entries; a mean reduction then averages over the valid ones.
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        values = self.call(y_true, y_pred)
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        mask = ops.cast(ops.not_equal(ops.cast(y_true, "int32"), int(self.ignore_class)),
                        values.dtype)
        if self.reduction in ("mean", "sum_over_batch_size"):
            mask = mask * ops.divide_no_nan(float(ops.size(mask)), ops.sum(mask))
        if sample_weight is not None:
            sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), values.dtype)
            mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
            mask = mask * sample_weight
        return reduce_weighted_values(values, mask, self.reduction, self.dtype)

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}
