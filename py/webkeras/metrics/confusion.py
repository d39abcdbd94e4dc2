"""Confusion-matrix metrics: TruePositives..., Precision, Recall and AUC (Keras 3 rules).

Counts are accumulated per threshold on the device: the [thresholds, samples] comparison
matrix is reduced with one matmul per count, so no data leaves the device until `result()`.
"""

import numpy as np

from webkeras import backend, ops
from webkeras.losses.loss import squeeze_or_expand_to_same_rank
from webkeras.metrics.metric import Metric, snapshot

NEG_INF = -1e10


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    if thresholds is not None:
        for t in _to_list(thresholds):
            if t is None or not 0 <= t <= 1:
                raise ValueError(
                    "Threshold values must be in [0, 1]. "
                    f"Received: {_to_list(thresholds)}"
                )
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def _filter_top_k(x, k):
    # Keep each row's k largest values, push the rest to NEG_INF.
    larger = ops.sum(ops.cast(ops.greater(ops.expand_dims(x, -2), ops.expand_dims(x, -1)),
                              x.dtype), axis=-1)
    keep = ops.cast(ops.less(larger, float(k)), x.dtype)
    return x * keep + NEG_INF * (1.0 - keep)


def _select_class(x, class_id):
    one_hot = ops.one_hot(ops.full((), class_id, "int32"), x.shape[-1], dtype=x.dtype)
    return ops.sum(x * one_hot, axis=-1, keepdims=True)


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, label_weights=None,
                                      thresholds_distributed_evenly=False):
    """Add this batch's weighted tp/fp/tn/fn counts (keys "tp", "fp", "tn", "fn")."""
    dtype = next(iter(variables.values())).dtype
    y_true = ops.cast(ops.convert_to_tensor(y_true), dtype)
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same shape. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}."
        )
    if sample_weight is not None:
        sample_weight = ops.expand_dims(ops.cast(ops.convert_to_tensor(sample_weight), dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}"
            )
        y_true, y_pred = _select_class(y_true, class_id), _select_class(y_pred, class_id)
        if sample_weight is not None and sample_weight.shape[-1:] not in ((1,), ()):
            sample_weight = _select_class(ops.broadcast_to(sample_weight, y_pred.shape[:-1] + (
                sample_weight.shape[-1],)), class_id)
    weights = ops.ones(y_pred.shape, dtype)
    if sample_weight is not None:
        weights = weights * ops.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        weights = weights * ops.broadcast_to(ops.convert_to_tensor(label_weights, dtype),
                                             y_pred.shape)
    y_pred, weights = ops.reshape(y_pred, (-1,)), ops.reshape(weights, (-1,))
    label = ops.cast(ops.not_equal(ops.reshape(y_true, (-1,)), 0.0), dtype)
    true_labels, false_labels = label * weights, (1.0 - label) * weights

    n = len(thresholds)
    if thresholds_distributed_evenly:
        # Keras's bucket rule: pred counts at threshold i when ceil(pred * (n - 1)) - 1 >= i,
        # i.e. pred * (n - 1) > i; the 0 - epsilon threshold takes every prediction.
        with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        index = np.arange(n, dtype=np.float32)
        if with_epsilon:
            index[0] = -1.0
        scaled = ops.clip(y_pred, 0.0, 1.0) * float(n - 1)
        pred_is_pos = ops.greater(ops.expand_dims(scaled, 0),
                                  ops.convert_to_tensor(index[:, None], dtype))
    else:
        thresholds = ops.convert_to_tensor(np.asarray(thresholds, np.float32)[:, None], dtype)
        pred_is_pos = ops.greater(ops.expand_dims(y_pred, 0), thresholds)
    pred_is_pos = ops.cast(pred_is_pos, dtype)
    tp = ops.matmul(pred_is_pos, true_labels)
    fp = ops.matmul(pred_is_pos, false_labels)
    updates = {"tp": lambda: tp, "fp": lambda: fp,
               "fn": lambda: ops.sum(true_labels) - tp, "tn": lambda: ops.sum(false_labels) - fp}
    for key, variable in variables.items():
        variable.assign(variable + updates[key]())


class _ConfusionMatrixConditionCount(Metric):
    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),),
                                             initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {self._condition: self.accumulator}, y_true, y_pred, self.thresholds,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        value = snapshot(self.accumulator)
        return ops.reshape(value, ()) if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class FalsePositives(_ConfusionMatrixConditionCount):
    _condition = "fp"


class FalseNegatives(_ConfusionMatrixConditionCount):
    _condition = "fn"


class TrueNegatives(_ConfusionMatrixConditionCount):
    _condition = "tn"


class TruePositives(_ConfusionMatrixConditionCount):
    _condition = "tp"


class _PrecisionRecall(Metric):
    _second = None  # "fp" for precision, "fn" for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        size = (len(self.thresholds),)
        self.true_positives = self.add_variable(size, "zeros", name="true_positives")
        second = "false_positives" if self._second == "fp" else "false_negatives"
        setattr(self, second, self.add_variable(size, "zeros", name=second))
        self._other = getattr(self, second)

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {"tp": self.true_positives, self._second: self._other}, y_true, y_pred,
            self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def result(self):
        result = ops.divide_no_nan(self.true_positives, self.true_positives + self._other)
        return ops.reshape(result, ()) if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """Precision = tp / (tp + fp), at `thresholds` (default 0.5)."""

    _second = "fp"


class Recall(_PrecisionRecall):
    """Recall = tp / (tp + fn), at `thresholds` (default 0.5)."""

    _second = "fn"


class AUC(Metric):
    """Area under the ROC or PR curve, by a Riemann sum over `num_thresholds` thresholds.

    Example:
    ```python
    m = keras.metrics.AUC()
    m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    float(m.result())  # 0.75
    ```
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        curves = {"roc": "ROC", "pr": "PR"}
        methods = ("interpolation", "majoring", "minoring")
        if str(curve).lower() not in curves:
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC"]')
        if str(summation_method).lower() not in methods:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f"Expected values are {list(methods)}")
        if multi_label:
            raise NotImplementedError("AUC(multi_label=True) is not supported yet.")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - backend.epsilon()] + thresholds
                                    + [1.0 + backend.epsilon()])
        self.curve = curves[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = label_weights
        self._from_logits = from_logits
        shape = (self.num_thresholds,)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")
        n = self.num_thresholds
        # [n-1, n] selectors of x[:-1] and x[1:]: slices as matmuls run on every backend.
        self._head = np.eye(n - 1, n, dtype=np.float32)
        self._tail = np.eye(n - 1, n, k=1, dtype=np.float32)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        update_confusion_matrix_variables(
            {"tp": self.true_positives, "tn": self.true_negatives,
             "fp": self.false_positives, "fn": self.false_negatives},
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            label_weights=self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _head_tail(self, x):
        return (ops.matmul(ops.convert_to_tensor(self._head), x),
                ops.matmul(ops.convert_to_tensor(self._tail), x))

    def interpolate_pr_auc(self):
        tp0, tp1 = self._head_tail(self.true_positives)
        p0, p1 = self._head_tail(self.true_positives + self.false_positives)
        _, fn1 = self._head_tail(self.false_negatives)
        dtp, dp = tp0 - tp1, p0 - p1
        prec_slope = ops.divide_no_nan(dtp, ops.maximum(dp, 0.0))
        intercept = tp1 - prec_slope * p1
        both_positive = ops.cast(p0 > 0, "float32") * ops.cast(p1 > 0, "float32")
        safe_p_ratio = ops.where(both_positive > 0, ops.divide_no_nan(p0, ops.maximum(p1, 0.0)),
                                 1.0)
        increment = ops.divide_no_nan(prec_slope * (dtp + intercept * ops.log(safe_p_ratio)),
                                      ops.maximum(tp1 + fn1, 0.0))
        return ops.sum(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = ops.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = ops.divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, ops.divide_no_nan(tp, tp + fp)
        x0, x1 = self._head_tail(x)
        y0, y1 = self._head_tail(y)
        if self.summation_method == "interpolation":
            heights = (y0 + y1) / 2.0
        elif self.summation_method == "minoring":
            heights = ops.minimum(y0, y1)
        else:
            heights = ops.maximum(y0, y1)
        return ops.sum((x0 - x1) * heights)

    def get_config(self):
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels, "label_weights": self.label_weights,
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
