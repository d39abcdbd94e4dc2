"""WebGPU parity of the math primitives added for issue #14 (rounding, trig, log1p/expm1,
isnan/isinf, argsort) and of the keras.ops composed from them, against the NumPy backend."""

import os

import numpy as np
import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

try:
    import wgpu

    _ADAPTER = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
except Exception as error:  # wgpu missing or no Vulkan/Metal/D3D driver
    _ADAPTER, _REASON = None, f"wgpu-py unavailable: {error}"
else:
    _REASON = "no WebGPU adapter found by wgpu-py"
if _ADAPTER is None:
    pytest.skip(_REASON, allow_module_level=True)

import webkeras as keras  # noqa: E402
from webkeras import backend  # noqa: E402
from webkeras.backend.base import MATH_UNARY_OPS  # noqa: E402
from webkeras.backend.numpy import NumpyBackend  # noqa: E402
from webkeras.backend.webgpu import WebGPUBackend  # noqa: E402

REF = NumpyBackend()
ops = keras.ops


@pytest.fixture(scope="module")
def gpu():
    return WebGPUBackend()


def assert_close(got, want, tol=1e-4):
    """|got - want| / max(1, |want|) <= tol elementwise; same shape, dtype, NaNs and infs."""
    want = np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype,
                                                                 want.shape, want.dtype)
    finite = np.isfinite(want) if want.dtype.kind == "f" else np.ones(want.shape, bool)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    a, b = got[finite].astype(np.float64), want[finite].astype(np.float64)
    if b.size:
        error = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))
        assert error <= tol, f"relative error {error:.3g}"


DOMAINS = {"arcsin": (-1.0, 1.0), "log1p": (-0.999, 5.0)}


def sample(op, shape, seed=0):
    rng = np.random.default_rng(seed)
    low, high = DOMAINS.get(op, (-8.0, 8.0))
    x = rng.uniform(low, high, size=shape).astype(np.float32)
    if op == "round" and x.size:
        halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5], np.float32)
        x.reshape(-1)[:min(8, x.size)] = halves[:min(8, x.size)]
    return x


SHAPES = [(), (1,), (7,), (33, 17), (2, 3, 4), (1025,), (300_000,)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", MATH_UNARY_OPS)
def test_math_unary(gpu, op, shape):
    x = sample(op, shape)
    assert_close(gpu.to_numpy(gpu.unary(op, gpu.from_numpy(x))), REF.unary(op, x))


def test_math_unary_hard_cases(gpu):
    tiny = np.array([1e-9, -1e-7, 3e-5, -2e-3, 0.0], np.float32)
    for op in ("log1p", "expm1"):
        got = gpu.to_numpy(gpu.unary(op, gpu.from_numpy(tiny)))
        want = REF.unary(op, tiny.astype(np.float64))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=0)  # relative, near 0
    angles = np.linspace(-20000, 20000, 4001).astype(np.float32)
    for op in ("sin", "cos"):
        got = gpu.to_numpy(gpu.unary(op, gpu.from_numpy(angles)))
        np.testing.assert_allclose(got, REF.unary(op, angles.astype(np.float64)), atol=2e-4)
    edges = np.array([-1.0, 1.0, 1.5, -1.0001], np.float32)
    assert_close(gpu.to_numpy(gpu.unary("arcsin", gpu.from_numpy(edges))),
                 np.arcsin(edges).astype(np.float32))
    big = np.array([-100.0, 100.0, 1e30, -1.0], np.float32)
    with np.errstate(over="ignore", divide="ignore"):
        assert_close(gpu.to_numpy(gpu.unary("log1p", gpu.from_numpy(big[2:]))),
                     np.log1p(big[2:]))
        assert_close(gpu.to_numpy(gpu.unary("expm1", gpu.from_numpy(big[:1]))),
                     np.expm1(big[:1]))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_math_unary_on_ints_and_bools(gpu, dtype):
    x = np.arange(-4, 5).astype(dtype)
    for op in MATH_UNARY_OPS:
        if op in ("arcsin", "log1p") and dtype == "int32":
            continue
        with np.errstate(all="ignore"):
            assert_close(gpu.to_numpy(gpu.unary(op, gpu.from_numpy(x))), REF.unary(op, x))


@pytest.mark.parametrize("method", ["isnan", "isinf"])
def test_nan_and_inf_tests_are_bit_tests(gpu, method):
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, 3.4e38, 1e-45],
                 np.float32)
    got = gpu.to_numpy(getattr(gpu, method)(gpu.from_numpy(x)))
    np.testing.assert_array_equal(got, getattr(np, method)(x))


@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_argsort(gpu, shape, axis, descending):
    x = np.round(np.random.default_rng(1).normal(size=shape) * 2).astype(np.float32)
    got = gpu.to_numpy(gpu.argsort(gpu.from_numpy(x), axis, descending))
    np.testing.assert_array_equal(got, REF.argsort(x, axis, descending))


# -- composed ops agree across backends --------------------------------------------------------
rng = np.random.default_rng(9)
X = rng.normal(size=(3, 5)).astype(np.float32)
IMAGES = rng.uniform(size=(2, 6, 5, 3)).astype(np.float32)
COMPOSED = {
    "cumsum": lambda: ops.cumsum(X, axis=1),
    "cumprod": lambda: ops.cumprod(X, axis=0),
    "prod": lambda: ops.prod(X, axis=1),
    "logsumexp": lambda: ops.logsumexp(X, axis=0),
    "sort": lambda: ops.sort(X, axis=1),
    "top_k": lambda: ops.top_k(X, 2)[0],
    "take_along_axis": lambda: ops.take_along_axis(X, np.argsort(X, 0), 0),
    "einsum": lambda: ops.einsum("ij,kj->ik", X, X),
    "tril": lambda: ops.tril(X, 1),
    "arange_linspace": lambda: ops.arange(5) * ops.linspace(0.0, 1.0, 5),
    "pad_reflect": lambda: ops.pad(X, [(1, 2), (2, 0)], mode="reflect"),
    "roll": lambda: ops.roll(X, 2, axis=1),
    "softmax_axis0": lambda: ops.softmax(X, axis=0),
    "one_hot_axis0": lambda: ops.one_hot(np.array([2, 0, 1]), 3, axis=0),
    "segment_sum": lambda: ops.segment_sum(X, np.array([1, 0, 1])),
    "arctan2": lambda: ops.arctan2(X, X[::-1]),
    "isfinite": lambda: ops.isfinite(X / ops.convert_to_tensor(np.array([0.0, 1, 1, 1, 1],
                                                                        np.float32))),
    "mod": lambda: ops.mod(ops.arange(-6, 6), 4),
    "resize": lambda: ops.image.resize(IMAGES, (4, 9)),
    "resize_nearest": lambda: ops.image.resize(IMAGES, (9, 2), interpolation="nearest"),
    "random_normal": lambda: keras.random.normal((4, 3), seed=3),
    "dropout": lambda: keras.random.dropout(ops.ones((4, 3)), 0.5, seed=3),
    "norm": lambda: ops.norm(X, axis=1),
    "dot_product_attention": lambda: ops.dot_product_attention(
        X.reshape(1, 3, 1, 5), X.reshape(1, 3, 1, 5), X.reshape(1, 3, 1, 5), is_causal=True),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_composed_ops_match_numpy_backend(name):
    with backend.backend_scope("numpy"):
        backend.set_backend("numpy")
        want = ops.convert_to_numpy(COMPOSED[name]())
        backend.set_backend("webgpu")
        result = COMPOSED[name]()
        assert result.backend.name == "webgpu"
        assert_close(ops.convert_to_numpy(result), want)
