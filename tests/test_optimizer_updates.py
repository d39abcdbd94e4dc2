"""The fused optimizer updates (`sgd_update`, `adam_update`, `rmsprop_update`: one primitive,
one pass on NumPy, one WGSL kernel on WebGPU) against the composed formula they replace
(`Backend`'s defaults, built from the element-wise primitives).

On NumPy the fused pass rounds as the composed one does, operation for operation: the results
must be identical. On WebGPU (wgpu-py; lavapipe here) both the kernel and the composed ops run
on the device, and the kernel must also agree with NumPy's fused pass within 1e-5.

Whole optimizers (clipping, schedules, weight decay and its exclusions, amsgrad, centered,
momentum) run once with the backend's fused updates and once with the composed ones; traced
steps must record each update as one call and replay schedules with weight decay.
"""

import contextlib
import types

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, layers
from webkeras.backend.base import Backend
from webkeras.backend.numpy import NumpyBackend

UPDATES = ("sgd_update", "adam_update", "rmsprop_update")
# 1, odd, primes, a >= 1,000 prime, a rank-3 and one past a 65,535-workgroup row (2-D grid).
SHAPES = [(1,), (7,), (13, 17), (1009,), (3, 5, 7), (1_000_003,)]
STEPS = 5
# Per step, as a schedule changes it.
RATES = [0.05 * 0.7**step for step in range(STEPS)]

# rule -> [(case id, slots the update takes, keyword arguments)].
RULES = {
    "sgd_update": [
        ("plain", (), dict(momentum=0.0, nesterov=False)),
        ("momentum", ("velocity",), dict(momentum=0.9, nesterov=False)),
        ("nesterov", ("velocity",), dict(momentum=0.9, nesterov=True)),
        ("nesterov_decay", ("velocity",), dict(momentum=0.5, nesterov=True,
                                               weight_decay=0.1)),
        ("plain_decay", (), dict(momentum=0.0, nesterov=False, weight_decay=0.004)),
    ],
    "adam_update": [
        ("adam", ("m", "v"), dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
        ("adamw", ("m", "v"), dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.1)),
        ("amsgrad", ("m", "v", "v_hat"), dict(beta_1=0.8, beta_2=0.95, epsilon=1e-3)),
        ("amsgrad_decay", ("m", "v", "v_hat"), dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                                                    weight_decay=0.004)),
    ],
    "rmsprop_update": [
        ("plain", ("velocity", None, None), dict(rho=0.9, momentum=0.0, epsilon=1e-7)),
        ("centered", ("velocity", "average_gradient", None),
         dict(rho=0.9, momentum=0.0, epsilon=1e-7)),
        ("momentum", ("velocity", None, "momentum_buffer"),
         dict(rho=0.8, momentum=0.5, epsilon=1e-7)),
        ("centered_momentum_decay", ("velocity", "average_gradient", "momentum_buffer"),
         dict(rho=0.9, momentum=0.9, epsilon=1e-7, weight_decay=0.05)),
    ],
}
CASES = [(rule, name, slots, kwargs) for rule, cases in RULES.items()
         for name, slots, kwargs in cases]
CASE_IDS = [f"{rule.split('_')[0]}-{name}" for rule, name, _, _ in CASES]


def _run(backend_, method, rule, slots, kwargs, shape):
    """`STEPS` updates of one variable through `method`; -> the variable and slots (host)."""
    rng = np.random.default_rng(sum(shape) + len(slots))
    var = backend_.from_numpy(rng.normal(size=shape).astype(np.float32))
    # Slots start as Keras's do (zeros), except RMSprop's velocity, seeded positive to reach
    # the centered denominator's subtraction from the first step.
    state = {}
    for name in slots:
        if name is not None:
            start = rng.uniform(0, 0.1, shape) if name == "velocity" else np.zeros(shape)
            state[name] = backend_.from_numpy(start.astype(np.float32))
    for step in range(STEPS):
        grad = backend_.from_numpy(rng.normal(size=shape).astype(np.float32) * 2.0**(step - 2))
        arrays = [None if name is None else state[name] for name in slots]
        if rule == "adam_update":
            method(var, grad, *arrays[:2], RATES[step], step=step + 1,
                   v_hat=arrays[2] if len(arrays) > 2 else None, **kwargs)
        elif rule == "sgd_update":
            method(var, grad, arrays[0] if arrays else None, RATES[step], **kwargs)
        else:
            method(var, grad, *arrays, RATES[step], **kwargs)
    return [backend_.to_numpy(var)] + [backend_.to_numpy(state[k]) for k in sorted(state)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("rule,name,slots,kwargs", CASES, ids=CASE_IDS)
def test_numpy_fused_update_equals_the_composed_formula(rule, name, slots, kwargs, shape):
    numpy = NumpyBackend()
    fused = _run(numpy, getattr(numpy, rule), rule, slots, kwargs, shape)
    composed = _run(numpy, types.MethodType(getattr(Backend, rule), numpy), rule, slots,
                    kwargs, shape)
    for a, b in zip(fused, composed):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def gpu():
    pytest.importorskip("wgpu")
    from webkeras.backend.webgpu import WebGPUBackend

    try:
        return WebGPUBackend()
    except Exception as exc:  # no adapter on this machine
        pytest.skip(f"no WebGPU adapter: {exc}")


def _max_relative_error(actual, expected):
    """Largest error relative to the element, or to the array's mean magnitude where the
    element is smaller: a result near zero by cancellation (w + momentum * v - lr * g) keeps
    the ulps of w, and shader compilers may reassociate such sums (Mesa's NIR does)."""
    magnitude = np.abs(expected)
    scale = np.maximum(magnitude, max(float(magnitude.mean()), 1e-30))
    return float(np.max(np.abs(actual - expected) / scale))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("rule,name,slots,kwargs", CASES, ids=CASE_IDS)
def test_webgpu_kernel_matches_composed_and_numpy(gpu, rule, name, slots, kwargs, shape):
    kernel = _run(gpu, getattr(gpu, rule), rule, slots, kwargs, shape)
    composed = _run(gpu, types.MethodType(getattr(Backend, rule), gpu), rule, slots, kwargs,
                    shape)
    numpy = NumpyBackend()
    host = _run(numpy, getattr(numpy, rule), rule, slots, kwargs, shape)
    for a, b, c in zip(kernel, composed, host):
        assert _max_relative_error(a, b) <= 1e-5
        assert _max_relative_error(a, c) <= 1e-5


def test_one_dispatch_per_update(gpu):
    shape = (1009,)
    for rule, name, slots, kwargs in CASES:
        before = gpu.driver.dispatches
        _run(gpu, getattr(gpu, rule), rule, slots, kwargs, shape)
        gpu.flush()
        # STEPS updates, plus the uploads (copies, not dispatches).
        assert gpu.driver.dispatches - before == STEPS, (rule, name)


# -- whole optimizers ------------------------------------------------------------------------
def _schedule():
    return keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.6)


OPTIMIZERS = {
    "sgd_momentum_clipnorm": lambda: keras.optimizers.SGD(0.1, momentum=0.9, clipnorm=0.5),
    "sgd_nesterov_schedule_decay": lambda: keras.optimizers.SGD(
        _schedule(), momentum=0.5, nesterov=True, weight_decay=0.1),
    "sgd_clipvalue": lambda: keras.optimizers.SGD(0.1, clipvalue=0.3),
    "adam_global_clipnorm": lambda: keras.optimizers.Adam(0.05, global_clipnorm=1.0),
    "adam_amsgrad_schedule": lambda: keras.optimizers.Adam(_schedule(), amsgrad=True),
    "adamw_amsgrad_clipvalue": lambda: keras.optimizers.AdamW(
        0.05, weight_decay=0.1, amsgrad=True, clipvalue=0.4),
    "adamw_schedule_excluded": lambda: keras.optimizers.AdamW(_schedule(), weight_decay=0.2),
    "rmsprop_centered_momentum_decay": lambda: keras.optimizers.RMSprop(
        0.01, momentum=0.9, centered=True, weight_decay=0.05, clipnorm=1.0),
    "rmsprop_schedule": lambda: keras.optimizers.RMSprop(_schedule(), rho=0.8),
}
VARIABLE_SHAPES = [(1,), (7,), (13, 17), (1009,), (3, 5, 7)]


@contextlib.contextmanager
def composed_updates(backend_):
    """The backend's updates replaced by `Backend`'s composed defaults while inside."""
    for name in UPDATES:
        setattr(backend_, name, types.MethodType(getattr(Backend, name), backend_))
    try:
        yield backend_
    finally:
        for name in UPDATES:
            del backend_.__dict__[name]


def _train_optimizer(case):
    """Six steps of `OPTIMIZERS[case]` on variables of every shape -> weights and slots."""
    rng = np.random.default_rng(5)
    variables = [keras.Variable(rng.normal(size=s).astype("float32"), name=f"w{i}")
                 for i, s in enumerate(VARIABLE_SHAPES)]
    optimizer = OPTIMIZERS[case]()
    if case.endswith("excluded"):
        optimizer.exclude_from_weight_decay(var_list=variables[:1], var_names=["w3"])
    for step in range(6):
        grads = [rng.normal(size=s).astype("float32") * 2.0**(step - 3) for s in VARIABLE_SHAPES]
        optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables + optimizer.variables]


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_optimizer_fused_equals_composed_on_numpy(case):
    with backend.backend_scope("numpy") as numpy:
        fused = _train_optimizer(case)
        with composed_updates(numpy):
            composed = _train_optimizer(case)
    assert len(fused) == len(composed) > len(VARIABLE_SHAPES) + 1
    for a, b in zip(fused, composed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_optimizer_fused_matches_composed_on_webgpu(gpu, case):
    with backend.backend_scope("numpy"):
        host = _train_optimizer(case)
    with backend.backend_scope(gpu):
        fused = _train_optimizer(case)
        with composed_updates(gpu):
            composed = _train_optimizer(case)
    for a, b, c in zip(fused, composed, host):
        assert _max_relative_error(a, b) <= 1e-5
        assert _max_relative_error(a, c) <= 1e-5


# -- traced steps ----------------------------------------------------------------------------
def _model(optimizer, jit_compile):
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((12,)), layers.Dense(9, activation="relu"),
                              layers.Dense(4, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  jit_compile=jit_compile)
    return model


def _plan_update_calls(model):
    (signature,) = model._step_plans._signatures.values()
    assert signature.plan is not None and signature.eager_reason is None
    plan = getattr(signature.plan, "plan", signature.plan)  # a DevicePlan wraps the Plan
    return [fn.__name__ for fn, _, _, _ in plan.calls if fn.__name__ in UPDATES]


@pytest.mark.parametrize("name,make", [
    ("adam_update", lambda: keras.optimizers.AdamW(_schedule(), weight_decay=0.1,
                                                   amsgrad=True)),
    ("rmsprop_update", lambda: keras.optimizers.RMSprop(_schedule(), centered=True,
                                                        momentum=0.5, weight_decay=0.1)),
    ("sgd_update", lambda: keras.optimizers.SGD(_schedule(), momentum=0.9, weight_decay=0.1)),
])
def test_a_traced_step_records_one_update_call_a_variable(numpy_backend, name, make):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 12)).astype("float32"), rng.integers(0, 4, 16)
    traced, eager = _model(make(), True), _model(make(), False)
    for _ in range(8):
        traced.train_on_batch(x, y)
        eager.train_on_batch(x, y)
    # Four variables (two kernels, two biases): four update calls, nothing else per variable;
    # the schedule's rate (which weight decay also reads) changes at every replayed step.
    assert _plan_update_calls(traced) == [name] * 4
    for a, b in zip(traced.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert traced.optimizer.iterations.numpy() == 8


@pytest.mark.parametrize("rule,name,slots,kwargs", CASES, ids=CASE_IDS)
def test_numpy_strided_arrays_update_as_contiguous_ones(rule, name, slots, kwargs):
    """Past one chunk, Fortran-ordered arrays (no flat view of them) are updated whole, in
    place, exactly as contiguous ones are chunk by chunk."""
    numpy = NumpyBackend()
    transposed = types.SimpleNamespace(
        from_numpy=lambda a: np.asfortranarray(a), to_numpy=np.ascontiguousarray)
    shape = (401, 409)  # 164,009 elements: two chunks and a part
    method = getattr(numpy, rule)
    for a, b in zip(_run(transposed, method, rule, slots, kwargs, shape),
                    _run(numpy, method, rule, slots, kwargs, shape)):
        np.testing.assert_array_equal(a, b)
