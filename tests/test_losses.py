"""Losses against real Keras 3 (tests/reference/training_reference.npz), gradient checks, errors.

Tolerance: float32 results agree with Keras within rtol=1e-6 plus atol=1e-6.
"""

import json
import os

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, ops
from webkeras.ops.tape import GradientTape

REFERENCE = os.path.join(os.path.dirname(__file__), "reference", "training_reference.npz")
RTOL = ATOL = 1e-6


def load_cases(prefix):
    data = np.load(REFERENCE)
    cases = {}
    for key in data.files:
        kind, case, name = key.split("/")
        if kind == prefix:
            cases.setdefault(case, {})[name] = data[key]
    for case in cases.values():
        case["spec"] = json.loads(str(case["spec"]))
    return sorted(cases.items())


LOSS_CASES = load_cases("loss")


pytestmark = pytest.mark.usefixtures("numpy_backend")


def run_loss_case(case):
    spec = case["spec"]
    loss = getattr(keras.losses, spec["class"])(**spec["config"])
    sw = case.get("sample_weight")
    return np.asarray(loss(case["y_true"], case["y_pred"], sample_weight=sw))


@pytest.mark.parametrize("name,case", LOSS_CASES, ids=[n for n, _ in LOSS_CASES])
def test_loss_matches_keras(name, case):
    np.testing.assert_allclose(run_loss_case(case), case["out"], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name,case", LOSS_CASES[::8], ids=[n for n, _ in LOSS_CASES[::8]])
def test_loss_config_matches_keras(name, case):
    spec = case["spec"]
    loss = getattr(keras.losses, spec["class"])(**spec["config"])
    assert loss.get_config() == spec["keras_config"]
    clone = type(loss).from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()


FUNCTION_CASES = load_cases("lossfn")


@pytest.mark.parametrize("name,case", FUNCTION_CASES, ids=[n for n, _ in FUNCTION_CASES])
def test_loss_function_matches_keras(name, case):
    out = getattr(keras.losses, name)(case["y_true"], case["y_pred"])
    np.testing.assert_allclose(np.asarray(out), case["out"], rtol=RTOL, atol=ATOL)


def test_loss_matches_keras_on_webgpu():
    pytest.importorskip("wgpu")
    try:
        backend.set_backend("webgpu")
    except Exception as exc:  # no adapter on this machine
        pytest.skip(f"no WebGPU adapter: {exc}")
    picked = [c for n, c in LOSS_CASES if n.endswith("sum_over_batch_size_1")][::3]
    for case in picked:
        np.testing.assert_allclose(run_loss_case(case), case["out"], rtol=1e-5, atol=1e-5)


# -- finite-difference gradients (float64, NumPy backend) -----------------------------------
def numeric_gradient(fn, y_pred, eps=1e-6):
    grad = np.zeros_like(y_pred)
    flat = y_pred.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(fn(ops.convert_to_tensor(y_pred)))
        flat[i] = saved - eps
        minus = float(fn(ops.convert_to_tensor(y_pred)))
        flat[i] = saved
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


rng = np.random.default_rng(7)
_labels = rng.integers(0, 4, 5)
GRADIENT_CASES = [
    ("MeanSquaredError", {}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("MeanAbsoluteError", {}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("MeanAbsolutePercentageError", {}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("MeanSquaredLogarithmicError", {}, rng.uniform(0.1, 2, (5, 3)), rng.uniform(0.1, 2, (5, 3))),
    ("Huber", {"delta": 0.7}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("LogCosh", {}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("CosineSimilarity", {}, rng.normal(size=(5, 3)), rng.normal(size=(5, 3))),
    ("Poisson", {}, rng.uniform(0.1, 2, (5, 3)), rng.uniform(0.1, 2, (5, 3))),
    ("KLDivergence", {}, rng.dirichlet(np.ones(4), 5), rng.dirichlet(np.ones(4), 5)),
    ("Hinge", {}, rng.integers(0, 2, (5, 3)), rng.normal(size=(5, 3))),
    ("SquaredHinge", {}, rng.choice([-1.0, 1.0], (5, 3)), rng.normal(size=(5, 3))),
    ("CategoricalHinge", {}, np.eye(4)[_labels], rng.normal(size=(5, 4))),
    ("BinaryCrossentropy", {}, rng.integers(0, 2, (5, 3)), rng.uniform(0.05, 0.95, (5, 3))),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
     rng.integers(0, 2, (5, 3)), rng.normal(size=(5, 3))),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, np.eye(4)[_labels],
     rng.dirichlet(np.ones(4), 5)),
    ("CategoricalCrossentropy", {"from_logits": True}, np.eye(4)[_labels],
     rng.normal(size=(5, 4))),
    ("SparseCategoricalCrossentropy", {}, _labels, rng.dirichlet(np.ones(4), 5)),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, _labels, rng.normal(size=(5, 4))),
]


@pytest.mark.parametrize("cls,config,y_true,y_pred", GRADIENT_CASES,
                         ids=[f"{c[0]}{c[1]}" for c in GRADIENT_CASES])
def test_loss_gradient_matches_finite_differences(cls, config, y_true, y_pred):
    loss = getattr(keras.losses, cls)(dtype="float64", **config)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    weights = rng.uniform(0.5, 1.5, y_pred.shape[0])

    def fn(p):
        return loss(y_true, p, sample_weight=weights)

    tensor = ops.convert_to_tensor(y_pred)
    with GradientTape() as tape:
        tape.watch(tensor)
        value = fn(tensor)
    grad = tape.gradient(value, tensor)
    assert grad is not None and grad.dtype == "float64"
    np.testing.assert_allclose(grad.numpy(), numeric_gradient(fn, y_pred.copy()),
                               rtol=1e-5, atol=1e-7)


# -- API: get, aliases, custom functions, errors ----------------------------------------------
@pytest.mark.parametrize("identifier,fn", [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"),
    ("mae", "mean_absolute_error"), ("mape", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"), ("kld", "kl_divergence"),
    ("huber_loss", "huber"), ("logcosh", "log_cosh"), ("bce", "binary_crossentropy"),
    ("categorical_crossentropy", "categorical_crossentropy"),
])
def test_get_resolves_names_and_aliases(identifier, fn):
    loss = keras.losses.get(identifier)
    assert loss.fn is getattr(keras.losses, fn)
    y, p = np.array([[0.0, 1.0]]), np.array([[0.3, 0.6]])
    expected = float(np.mean(getattr(keras.losses, fn)(y, p)))
    assert float(loss(y, p)) == pytest.approx(expected)


def test_get_class_names_and_instances():
    assert isinstance(keras.losses.get("CategoricalCrossentropy"),
                      keras.losses.CategoricalCrossentropy)
    instance = keras.losses.Huber(delta=2.0)
    assert keras.losses.get(instance) is instance
    assert isinstance(keras.losses.get(keras.losses.Hinge), keras.losses.Hinge)
    config = {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
    assert keras.losses.get(config).from_logits is True
    assert keras.losses.Huber().name == "huber_loss"


def test_custom_loss_function_and_subclass():
    def my_loss(y_true, y_pred):
        return ops.mean(ops.abs(y_true - y_pred) * 2.0, axis=-1)

    loss = keras.losses.get(my_loss)
    assert loss.name == "my_loss"
    y, p = np.ones((4, 2)), np.zeros((4, 2))
    assert float(loss(y, p, np.array([1.0, 1.0, 0.0, 0.0]))) == pytest.approx(1.0)

    class Scaled(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return ops.sum(y_pred - y_true, axis=-1)

    assert Scaled().name == "scaled"
    assert float(Scaled(reduction="sum")(y, p)) == pytest.approx(-8.0)


def test_unknown_loss_name_lists_choices():
    with pytest.raises(ValueError, match="received 'mean_sqared_error'.*mean_squared_error"):
        keras.losses.get("mean_sqared_error")


def test_bad_reduction_is_rejected():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        keras.losses.MeanSquaredError(reduction="average")


@pytest.mark.parametrize("cls,y_true,y_pred", [
    ("MeanSquaredError", np.zeros((4, 3)), np.zeros((4, 2))),
    ("CategoricalCrossentropy", np.zeros((4, 3)), np.full((4, 5), 0.2)),
    ("SparseCategoricalCrossentropy", np.zeros((3,)), np.full((4, 5), 0.2)),
    ("BinaryCrossentropy", np.zeros((4, 3)), np.full((5, 3), 0.5)),
])
def test_shape_mismatch_gives_clear_error(cls, y_true, y_pred):
    with pytest.raises(ValueError, match=r"y_true.shape=.*y_pred.shape="):
        getattr(keras.losses, cls)()(y_true, y_pred)


def test_crossentropies_refuse_a_class_axis_they_would_ignore():
    y_pred = np.full((2, 3), 1 / 3, "float32")
    with pytest.raises(ValueError, match=r"`axis` must be the last axis \(-1\). Received: axis=0"):
        keras.losses.sparse_categorical_crossentropy(np.array([0, 1]), y_pred, axis=0)
    with pytest.raises(ValueError, match="Received: axis=0"):
        keras.losses.SparseCategoricalCrossentropy(axis=0)(np.array([0, 1]), y_pred)
    np.testing.assert_allclose(
        keras.losses.sparse_categorical_crossentropy(np.array([0, 1]), y_pred, axis=1),
        [np.log(3)] * 2, rtol=1e-6)
