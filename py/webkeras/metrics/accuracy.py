"""Accuracy metrics: functions (per-sample 0/1 values) and their MeanMetricWrapper classes."""

from webkeras import ops
from webkeras.losses.loss import squeeze_or_expand_to_same_rank
from webkeras.metrics.metric import MeanMetricWrapper


def _float_pred(y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return y_pred if y_pred.dtype in ("float32", "float64") else ops.cast(y_pred, "float32")


def accuracy(y_true, y_pred):
    y_pred = _float_pred(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = _float_pred(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = ops.cast(ops.greater(y_pred, float(threshold)), y_pred.dtype)
    return ops.cast(ops.equal(y_true, predicted), "float32")


def categorical_accuracy(y_true, y_pred):
    y_pred = _float_pred(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_accuracy expects one-hot `y_true` of the same shape as `y_pred`. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}. "
            "For integer labels use sparse_categorical_accuracy."
        )
    return ops.cast(ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1)),
                    "float32")


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = _float_pred(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_accuracy expects one class index per sample: y_true.shape "
            f"should be y_pred.shape[:-1]. Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}."
        )
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), y_pred.dtype)
    matches = ops.cast(ops.equal(ops.cast(y_true, y_pred.dtype), predicted), "float32")
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, -1)
    return matches


def _in_top_k(target_index, predictions, k):
    # The target is in the top k when fewer than k predictions are strictly larger than it
    # (ties count as in, as `keras.ops.in_top_k` does).
    one_hot = ops.one_hot(target_index, predictions.shape[-1], dtype=predictions.dtype)
    target_value = ops.sum(one_hot * predictions, axis=-1, keepdims=True)
    larger = ops.sum(ops.cast(ops.greater(predictions, target_value), "float32"), axis=-1)
    return ops.cast(ops.less(larger, float(k)), "float32")


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = _float_pred(y_pred)
    return _in_top_k(ops.argmax(ops.convert_to_tensor(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = _float_pred(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    return _in_top_k(ops.cast(y_true, "int32"), y_pred, k)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}
