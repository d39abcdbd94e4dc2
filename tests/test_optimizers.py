"""Optimizers against real Keras 3 (tests/reference/training_reference.npz): five fixed
gradient steps on two variables, weights compared after every step (rtol=1e-6, atol=1e-6)."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend
from test_losses import ATOL, RTOL, load_cases

OPTIMIZER_CASES = load_cases("optimizer")


pytestmark = pytest.mark.usefixtures("numpy_backend")


def build(spec):
    config = dict(spec["config"])
    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = keras.optimizers.schedules.deserialize(config["learning_rate"])
    return getattr(keras.optimizers, spec["class"])(**config)


def replay(case, check):
    optimizer = build(case["spec"])
    variables = [keras.Variable(case["w0_0"]), keras.Variable(case["w0_1"])]
    for step in range(case["spec"]["steps"]):
        grads = [case[f"g{step}_0"], case[f"g{step}_1"]]
        optimizer.apply_gradients(zip(grads, variables))
        for i, v in enumerate(variables):
            check(v.numpy(), case[f"w{step + 1}_{i}"], f"step {step + 1}, variable {i}")
    return optimizer


@pytest.mark.parametrize("name,case", OPTIMIZER_CASES, ids=[n for n, _ in OPTIMIZER_CASES])
def test_optimizer_matches_keras(name, case):
    def check(actual, expected, msg):
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=msg)

    optimizer = replay(case, check)
    assert int(optimizer.iterations) == 5
    keras_config = case["spec"]["keras_config"]
    config = optimizer.get_config()
    # Keras numbers auto-names globally (adam_4); compare the stem.
    assert config["name"].rstrip("_0123456789") == keras_config["name"].rstrip("_0123456789")
    for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
        assert config[key] == keras_config[key], key
    if not isinstance(config["learning_rate"], dict):
        assert config["learning_rate"] == pytest.approx(keras_config["learning_rate"])
    clone = type(optimizer).from_config(config)
    assert clone.get_config() == config


def test_optimizers_match_keras_on_webgpu():
    pytest.importorskip("wgpu")
    try:
        backend.set_backend("webgpu")
    except Exception as exc:  # no adapter on this machine
        pytest.skip(f"no WebGPU adapter: {exc}")

    def check(actual, expected, msg):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5, err_msg=msg)

    for name, case in OPTIMIZER_CASES:
        if name.split("_")[1] in ("SGD", "Adam", "RMSprop", "Nadam"):
            replay(case, check)


def test_get_is_case_insensitive():
    assert isinstance(keras.optimizers.get("Adam"), keras.optimizers.Adam)
    assert isinstance(keras.optimizers.get("rmsprop"), keras.optimizers.RMSprop)
    assert isinstance(keras.optimizers.get("ADAMW"), keras.optimizers.AdamW)
    assert isinstance(keras.optimizers.get(keras.optimizers.Nadam), keras.optimizers.Nadam)
    config = {"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.9}}
    assert keras.optimizers.get(config).momentum == 0.9
    with pytest.raises(ValueError, match="'adamm'.*'adam'"):
        keras.optimizers.get("adamm")


def test_legacy_lr_and_unknown_arguments():
    assert keras.optimizers.SGD(lr=0.3).learning_rate == pytest.approx(0.3)
    with pytest.raises(ValueError, match="not recognized"):
        keras.optimizers.Adam(betta_1=0.5)
    with pytest.raises(ValueError, match="Only one of"):
        keras.optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum"):
        keras.optimizers.SGD(momentum=1.5)


def test_learning_rate_is_settable_unless_scheduled():
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    optimizer.learning_rate = 0.001
    assert optimizer.learning_rate == pytest.approx(0.001)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.001)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    scheduled = keras.optimizers.SGD(learning_rate=schedule)
    with pytest.raises(TypeError, match="not settable"):
        scheduled.learning_rate = 0.1
    v = keras.Variable(np.zeros(2, "float32"))
    scheduled.apply_gradients([(np.ones(2, "float32"), v)])
    assert scheduled.learning_rate == pytest.approx(0.05)
    np.testing.assert_allclose(v.numpy(), [-0.1, -0.1], rtol=1e-6)


def test_variables_follow_keras_order():
    optimizer = keras.optimizers.Adam()
    a, b = keras.Variable(np.zeros((2,), "float32")), keras.Variable(np.zeros((3,), "float32"))
    optimizer.apply_gradients([(np.ones(2, "float32"), a), (np.ones(3, "float32"), b)])
    shapes = [tuple(v.shape) for v in optimizer.variables]
    assert shapes == [(), (), (2,), (2,), (3,), (3,)]
    assert [n.split("_")[-1] for n in (v.name for v in optimizer.variables[2:])] == [
        "momentum", "velocity", "momentum", "velocity"]


@pytest.mark.parametrize("name", ["ExponentialDecay", "InverseTimeDecay", "CosineDecay",
                                  "PiecewiseConstantDecay"])
def test_schedule_config_round_trip(name):
    S = keras.optimizers.schedules
    schedule = {
        "ExponentialDecay": lambda: S.ExponentialDecay(0.1, 10, 0.9, staircase=True),
        "InverseTimeDecay": lambda: S.InverseTimeDecay(0.1, 10, 0.5),
        "CosineDecay": lambda: S.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2,
                                             warmup_steps=5),
        "PiecewiseConstantDecay": lambda: S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
    }[name]()
    clone = type(schedule).from_config(schedule.get_config())
    for step in (0, 3, 12, 50, 200):
        assert float(clone(step)) == float(schedule(step))
