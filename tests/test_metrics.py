"""Metrics against real Keras 3 (tests/reference/training_reference.npz), custom metrics, get.

Each reference case feeds three batches (with and without sample weights) and checks
`result()` after every batch, within rtol=1e-6 plus atol=1e-6.
"""

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, ops
from test_losses import ATOL, RTOL, load_cases

METRIC_CASES = load_cases("metric")


pytestmark = pytest.mark.usefixtures("numpy_backend")


def replay(case):
    spec = case["spec"]
    metric = getattr(keras.metrics, spec["class"])(**spec["config"])
    results = []
    for b in range(spec["batches"]):
        metric.update_state(case[f"y_true_{b}"], case[f"y_pred_{b}"],
                            sample_weight=case.get(f"sample_weight_{b}"))
        results.append(np.asarray(metric.result()))
    return metric, results


@pytest.mark.parametrize("name,case", METRIC_CASES, ids=[n for n, _ in METRIC_CASES])
def test_metric_matches_keras(name, case):
    metric, results = replay(case)
    for b, result in enumerate(results):
        np.testing.assert_allclose(result, case[f"result_{b}"], rtol=RTOL, atol=ATOL,
                                   err_msg=f"after batch {b}")
    metric.reset_state()
    assert all(not np.any(v.numpy()) for v in metric.variables)


def test_metrics_match_keras_on_webgpu():
    pytest.importorskip("wgpu")
    try:
        backend.set_backend("webgpu")
    except Exception as exc:  # no adapter on this machine
        pytest.skip(f"no WebGPU adapter: {exc}")
    for name, case in METRIC_CASES:
        if name.split("_")[1] in ("AUC", "Precision", "SparseCategoricalAccuracy", "Mean"):
            _, results = replay(case)
            np.testing.assert_allclose(results[-1], case["result_2"], rtol=1e-5, atol=1e-5,
                                       err_msg=name)


def test_metric_state_is_device_variables():
    metric = keras.metrics.AUC(num_thresholds=20)
    assert [v.name for v in metric.variables] == [
        "true_positives", "false_positives", "true_negatives", "false_negatives"]
    assert all(isinstance(v, keras.Variable) and not v.trainable for v in metric.variables)
    metric.update_state([0, 1, 1], [0.2, 0.7, 0.4])
    assert isinstance(metric.result(), keras.ops.GradientTape.__mro__[0]) or hasattr(
        metric.result(), "numpy")


def test_custom_metric_subclass():
    class BinaryTruePositives(keras.metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(shape=(), initializer="zeros", name="tp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = ops.cast(ops.equal(ops.cast(y_true, "bool"), ops.cast(y_pred, "bool")),
                            "float32")
            self.true_positives.assign(self.true_positives + ops.sum(hits))

        def result(self):
            return self.true_positives

    metric = BinaryTruePositives()
    metric.update_state(np.array([1, 0, 1]), np.array([1, 1, 1]))
    assert float(metric.result()) == 2.0
    assert metric.get_config() == {"name": "binary_true_positives", "dtype": "float32"}
    metric.reset_state()
    assert float(metric.result()) == 0.0

    class Forgot(keras.metrics.Metric):
        def __init__(self):
            self.v = self.add_variable(shape=(), initializer="zeros")

    with pytest.raises(RuntimeError, match="super\\(\\).__init__\\(\\)"):
        Forgot()


def test_function_metric_and_mean():
    def doubled_error(y_true, y_pred):
        return 2.0 * ops.mean(ops.abs(y_true - y_pred), axis=-1)

    metric = keras.metrics.get(doubled_error)
    assert metric.name == "doubled_error"
    metric.update_state(np.ones((2, 3)), np.zeros((2, 3)))
    assert float(metric.result()) == pytest.approx(2.0)
    mean = keras.metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    assert float(mean.result()) == pytest.approx(2.0)
    total = keras.metrics.Sum()
    total.update_state([1.0, 2.0])
    assert float(total.result()) == 3.0


@pytest.mark.parametrize("identifier,cls", [
    ("mse", "MeanSquaredError"), ("MAE", "MeanAbsoluteError"), ("auc", "AUC"),
    ("AUC", "AUC"), ("precision", "Precision"), ("Recall", "Recall"),
    ("binary_accuracy", "BinaryAccuracy"), ("top_k_categorical_accuracy",
                                            "TopKCategoricalAccuracy"),
    ("root_mean_squared_error", "RootMeanSquaredError"),
])
def test_get_by_name_keeps_the_name(identifier, cls):
    metric = keras.metrics.get(identifier)
    assert isinstance(metric, getattr(keras.metrics, cls))
    assert metric.name == identifier


@pytest.mark.parametrize("loss,y_shape,pred_shape,fn", [
    ("binary_crossentropy", (4, 1), (4, 1), "binary_accuracy"),
    ("sparse_categorical_crossentropy", (4,), (4, 3), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (4, 3), (4, 3), "categorical_accuracy"),
])
def test_accuracy_resolves_from_loss_and_shapes(loss, y_shape, pred_shape, fn):
    metric = keras.metrics.get("accuracy", loss, y_shape, pred_shape)
    assert metric._fn is getattr(keras.metrics, fn)
    assert metric.name == "accuracy"


def test_unknown_metric_name_lists_choices():
    with pytest.raises(ValueError, match="received 'accuracyy'.*'accuracy'"):
        keras.metrics.get("accuracyy")


def test_shape_mismatch_gives_clear_error():
    with pytest.raises(ValueError, match=r"y_true.shape=.*y_pred.shape="):
        keras.metrics.CategoricalAccuracy().update_state(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"y_true.shape=.*y_pred.shape="):
        keras.metrics.Precision().update_state(np.zeros((4, 3)), np.zeros((4, 5)))
