"""Parity of every WebGPU primitive with the NumPy reference backend, over many shapes."""

import itertools
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

from webkeras.backend.base import ARITHMETIC_OPS, BINARY_OPS, COMPARISON_OPS, UNARY_OPS  # noqa
from webkeras.backend.numpy import NumpyBackend  # noqa: E402
from webkeras.backend.webgpu import LOOP_LIMIT, WebGPUBackend  # noqa: E402

REF = NumpyBackend()
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def gpu():
    return WebGPUBackend()


def test_backend_names_its_device():
    from webkeras import backend

    with backend.backend_scope("numpy"):
        backend.set_backend("numpy")
        assert (backend.backend(), backend.device()) == ("numpy", "NumPy")
        backend.set_backend("webgpu")
        assert backend.backend() == "webgpu"
        assert backend.device() == backend.get_backend().driver.adapter_info != ""


@pytest.fixture(params=["rows", "cols"])
def both_layouts(request, gpu):
    """Run a reduction test with both kernel layouts, whatever the adapter prefers."""
    saved = gpu.limits.reduce_layout
    # Past LOOP_LIMIT the backend must use "rows" on every adapter (llvmpipe's loop cap).
    gpu.limits.reduce_layout = lambda outputs, reduced, inner: (
        "rows" if reduced > LOOP_LIMIT else request.param)
    yield gpu
    gpu.limits.reduce_layout = saved


def rng(seed=0):
    return np.random.default_rng(seed)


def assert_close(got, want):
    """max|got - want| / max(1, max|want|) <= TOLERANCE, same shape and dtype."""
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.size == 0:
        return
    a, b = got.astype(np.float64), want.astype(np.float64)
    error = np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b)))
    assert error <= TOLERANCE, f"relative error {error:.3g}"


def run(gpu, method, *args, **kwargs):
    """Call `method` on both backends with host arrays uploaded; return (gpu, ref) ndarrays."""
    up = [gpu.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    got = getattr(gpu, method)(*up, **kwargs)
    want = getattr(REF, method)(*[REF.from_numpy(a) if isinstance(a, np.ndarray) else a
                                  for a in args], **kwargs)
    return gpu.to_numpy(got), want


SHAPES = [
    (), (1,), (7,), (3, 5), (1, 1), (33, 17), (1000,), (2, 3, 4), (5, 1, 7), (4, 3, 2, 5),
    (17, 129), (300_000,), (64, 257), (3, 1, 1, 9), (1023,), (1025,), (2, 2, 2, 2, 2),
    (257, 3), (11, 13, 3), (8, 8, 8, 8),
]
PAIRS = [
    ((), ()), ((1,), (1,)), ((7,), ()), ((), (7,)), ((3, 5), (5,)), ((3, 5), (3, 1)),
    ((1, 5), (3, 1)), ((33, 17), (33, 17)), ((1000,), (1000,)), ((2, 3, 4), (3, 1)),
    ((5, 1, 7), (1, 4, 1)), ((4, 3, 2, 5), (4, 1, 2, 1)), ((300_000,), (300_000,)),
    ((64, 257), (257,)), ((2, 1, 3, 1), (1, 4, 1, 5)), ((17, 129), (17, 1)), ((1,), (9, 9)),
    ((3, 4, 5), (3, 4, 5)), ((1025,), (1,)), ((8, 1, 8), (8, 8, 1)),
]
POSITIVE_ONLY = {"log", "sqrt", "reciprocal"}


def sample(shape, op=None, seed=0, dtype="float32"):
    return np.asarray(_sample(shape, op, seed, dtype))


def _sample(shape, op, seed, dtype):
    r = rng(seed)
    if dtype == "int32":
        return r.integers(-5, 6, size=shape).astype(np.int32)
    if dtype == "bool":
        return r.random(shape) < 0.5
    if op in POSITIVE_ONLY or op in ("pow", "div"):
        return r.uniform(0.5, 3.0, size=shape).astype(np.float32)
    x = r.normal(0, 3, size=shape).astype(np.float32)
    # Comparisons need exact ties to be tested too.
    return np.round(x) if op in COMPARISON_OPS else x


# -- conversion ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,stored", [
    ("float32", "float32"), ("float64", "float32"), ("int32", "int32"), ("int64", "int32"),
    ("uint8", "int32"), ("bool", "bool"),
])
def test_round_trip(gpu, dtype, stored):
    host = (rng().normal(size=(3, 7)) * 10).astype(dtype)
    back = gpu.to_numpy(gpu.from_numpy(host))
    assert str(back.dtype) == stored and np.array_equal(back, host.astype(stored))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype,value", [("float32", -1.5), ("int32", 7), ("bool", True)])
def test_full(gpu, shape, dtype, value):
    assert_close(gpu.to_numpy(gpu.full(shape, value, dtype)), REF.full(shape, value, dtype))


# -- element-wise ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", UNARY_OPS)
def test_unary(gpu, op, shape):
    assert_close(*run(gpu, "unary", op, sample(shape, op)))


@pytest.mark.parametrize("op", ["neg", "abs", "sign", "square", "relu", "exp"])
@pytest.mark.parametrize("shape", [(1,), (7,), (33, 17), (1000,)])
def test_unary_int(gpu, op, shape):
    assert_close(*run(gpu, "unary", op, sample(shape, dtype="int32")))


def test_unary_extremes(gpu):
    x = np.array([-1e4, -90.0, -44.0, 0.0, 44.0, 90.0, 1e4], np.float32)
    for op in ("sigmoid", "tanh", "relu", "abs", "sign"):
        assert_close(*run(gpu, "unary", op, x))


@pytest.mark.parametrize("shapes", PAIRS)
@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary(gpu, op, shapes):
    a, b = sample(shapes[0], op, seed=1), sample(shapes[1], op, seed=2)
    assert_close(*run(gpu, "binary", op, a, b))


@pytest.mark.parametrize("shapes", PAIRS[:12])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum", "equal", "less"])
def test_binary_int(gpu, op, shapes):
    a, b = (sample(s, seed=k, dtype="int32") for k, s in enumerate(shapes))
    assert_close(*run(gpu, "binary", op, a, b))


@pytest.mark.parametrize("shapes", PAIRS)
def test_where(gpu, shapes):
    a, b = sample(shapes[0], seed=1), sample(shapes[1], seed=2)
    condition = sample(shapes[0], seed=3, dtype="bool")
    assert_close(*run(gpu, "where", condition, a, b))


@pytest.mark.parametrize("shape", SHAPES)
def test_clip(gpu, shape):
    assert_close(*run(gpu, "clip", sample(shape), -1.0, 2.5))


def test_clip_int_and_arrays(gpu):
    assert_close(*run(gpu, "clip", sample((9, 4), dtype="int32"), -2, 3))
    x, low, high = sample((5, 6), seed=1), sample((6,), seed=2) - 2, sample((5, 1), seed=3) + 2
    assert_close(*run(gpu, "clip", x, low, high))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("src,dst", [
    ("float32", "int32"), ("float32", "bool"), ("int32", "float32"), ("bool", "float32"),
    ("int32", "bool"), ("bool", "int32"), ("float32", "float32"),
])
def test_cast(gpu, shape, src, dst):
    x = sample(shape, dtype=src)
    assert_close(*run(gpu, "cast", x, dst))


def test_large_1d_uses_2d_grid(gpu):
    # More than 65535 workgroups of 256 threads.
    x = rng().normal(size=65535 * 256 + 1000).astype(np.float32)
    assert_close(*run(gpu, "unary", "neg", x))


# -- reductions ------------------------------------------------------------------------------
REDUCE_SHAPES = [(7,), (3, 5), (2, 3, 4), (2, 3, 4, 5)]
REDUCE_CASES = [
    (shape, axes) for shape in REDUCE_SHAPES for r in range(1, len(shape) + 1)
    for axes in itertools.combinations(range(len(shape)), r)
] + [((300_000,), (0,)), ((257, 1031), (0,)), ((257, 1031), (1,)), ((1000, 3), (0,)),
     ((3, 1, 5), (1,)), ((4, 1, 6), (0, 1)), ((70_000, 2), (1,)), ((5, 6), ()),
     ((1_000_000,), (0,)),
     ((3, 70_000), (1,))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axes", REDUCE_CASES)
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reduce(gpu, op, shape, axes, keepdims):
    assert_close(*run(gpu, "reduce", op, sample(shape), axes, keepdims))


@pytest.mark.parametrize("shape,axes", REDUCE_CASES[:26:4] + [((300_000,), (0,)), ((9, 3), (0,)),
                                        ((257, 1031), (1,)), ((1000, 3), (0,))])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "argmax"])
def test_reduce_layouts(both_layouts, op, shape, axes):
    if op == "argmax":
        x = np.round(sample(shape))
        assert_close(*run(both_layouts, "argmax", x, axes[-1] if axes else 0))
    else:
        assert_close(*run(both_layouts, "reduce", op, sample(shape), axes, False))


@pytest.mark.parametrize("op", ["sum", "max", "min"])
def test_reduce_int(gpu, op):
    for shape, axes in REDUCE_CASES[:26:3]:
        assert_close(*run(gpu, "reduce", op, sample(shape, dtype="int32"), axes, False))


ARGMAX_CASES = [(shape, axis) for shape in REDUCE_SHAPES + [(1,), (5, 1, 3), (33, 300)]
                for axis in range(len(shape))] + [((300_000,), 0), ((1000, 1000), 0)]


@pytest.mark.parametrize("shape,axis", ARGMAX_CASES)
def test_argmax(gpu, shape, axis):
    # Rounded values tie often: the first maximum must win, as in NumPy.
    assert_close(*run(gpu, "argmax", np.round(sample(shape)), axis))


# -- linear algebra / shape ------------------------------------------------------------------
MATMUL_CASES = [
    ((1, 1), (1, 1)), ((1, 5), (5, 1)), ((3, 7), (7, 5)), ((65, 63), (63, 67)),
    ((64, 64), (64, 64)), ((128, 784), (784, 128)), ((1000, 1000), (1000, 1000)),
    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (5, 4, 6)), ((5, 3, 4), (1, 4, 6)),
    ((2, 1, 3, 4), (1, 5, 4, 6)), ((4, 4), (3, 4, 2)), ((17, 1), (1, 17)), ((1, 300), (300, 1)),
    ((33, 129), (129, 1)), ((7, 2, 9, 10), (10, 3)), ((100, 5), (5, 100)), ((3, 2, 2), (3, 2, 2)),
    ((257, 31), (31, 255)), ((6, 1025), (1025, 3)), ((2, 0, 3), (3, 4)),
    # Primes, >= 1,000 along each axis, the MLP's and a convolution's weight-gradient shapes
    # (tall k), k past matmul_direct.wgsl's K_CHUNK, odd batches broadcast both ways.
    ((13, 1009), (1009, 7)), ((1031, 17), (17, 3)), ((5, 11), (11, 1013)),
    ((784, 128), (128, 128)), ((128, 128), (128, 784)), ((144, 3872), (3872, 32)),
    ((3, 4099), (4099, 2)), ((3, 1, 5, 7), (1, 4, 7, 9)), ((2, 3, 67, 129), (2, 3, 129, 65)),
]
MATMUL_TOLERANCE = 1e-5


@pytest.fixture(params=["tiles", "direct"])
def matmul_kernel(request, gpu):
    """Run a matmul test with both kernels, whatever the adapter prefers: tiles in workgroup
    memory (GPUs: 16x16 threads) and direct reads (software adapters: 8x8)."""
    saved = gpu.limits.matmul_tiles, gpu.limits.matmul_threads
    tiles = request.param == "tiles"
    gpu.limits.matmul_tiles, gpu.limits.matmul_threads = tiles, 16 if tiles else 8
    yield gpu
    gpu.limits.matmul_tiles, gpu.limits.matmul_threads = saved


def _transposed(shape):
    return shape[:-2] + (shape[-1], shape[-2])


@pytest.mark.parametrize("transpose_a,transpose_b",
                         list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("shapes", MATMUL_CASES)
def test_matmul(matmul_kernel, shapes, transpose_a, transpose_b):
    """Every transpose pair (the matmul VJP reads operands transposed in place) against
    NumPy's float64 product: max |error| <= 1e-5 of max |product|."""
    a = sample(_transposed(shapes[0]) if transpose_a else shapes[0], seed=1)
    b = sample(_transposed(shapes[1]) if transpose_b else shapes[1], seed=2)
    got = matmul_kernel.to_numpy(matmul_kernel.matmul(
        matmul_kernel.from_numpy(a), matmul_kernel.from_numpy(b), transpose_a, transpose_b))
    want = np.matmul(np.swapaxes(a, -1, -2) if transpose_a else a,
                     np.swapaxes(b, -1, -2) if transpose_b else b, dtype=np.float64)
    assert (got.shape, got.dtype) == (want.shape, np.float32)
    if want.size:
        error = np.max(np.abs(got - want)) / np.max(np.abs(want))
        assert error <= MATMUL_TOLERANCE, f"relative error {error:.3g}"


TRANSPOSE_CASES = [
    (shape, perm) for shape in [(7,), (3, 5), (2, 3, 4), (2, 3, 4, 5)]
    for perm in itertools.permutations(range(len(shape)))
] + [((1000, 300), (1, 0)), ((1, 5, 1), (2, 0, 1))]


@pytest.mark.parametrize("shape,perm", TRANSPOSE_CASES)
def test_transpose(gpu, shape, perm):
    assert_close(*run(gpu, "transpose", sample(shape), perm))


@pytest.mark.parametrize("shapes", [(b, np.broadcast_shapes(a, b)) for a, b in PAIRS])
def test_broadcast_to(gpu, shapes):
    assert_close(*run(gpu, "broadcast_to", sample(shapes[0]), shapes[1]))


@pytest.mark.parametrize("shape,new", [((6,), (2, 3)), ((2, 3, 4), (4, 6)), ((5,), (5, 1)),
                                       ((3, 4), (-1,)), ((), (1, 1))])
def test_reshape_shares_buffer(gpu, shape, new):
    x = gpu.from_numpy(sample(shape))
    y = gpu.reshape(x, new)
    assert y.buffer is x.buffer
    assert_close(gpu.to_numpy(y), REF.reshape(gpu.to_numpy(x), new))


# -- fused -----------------------------------------------------------------------------------
SOFTMAX_SHAPES = [(1,), (1, 1), (7,), (3, 5), (2, 3, 5), (4, 1000), (1000, 10), (128, 10),
                  (17, 257), (5, 513), (3, 2, 2, 9), (70_000, 2), (2, 1), (1, 4099),
                  (33, 1), (6, 255), (6, 256), (9, 17), (256, 3), (11, 100), (2, 100_000)]


@pytest.mark.parametrize("shape", SOFTMAX_SHAPES)
@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax(gpu, method, shape):
    assert_close(*run(gpu, method, sample(shape) * 3))


@pytest.mark.parametrize("shape", [(1,), (3, 5), (4, 1000), (1, 4099), (6, 256), (70_000, 2)])
@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax_layouts(both_layouts, method, shape):
    assert_close(*run(both_layouts, method, sample(shape) * 3))


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (1000,), (2, 3, 4), (64, 3)])
@pytest.mark.parametrize("depth", [1, 3, 10, 1000])
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
def test_one_hot(gpu, shape, depth, dtype):
    indices = rng().integers(-2, depth + 2, size=shape).astype(np.int32)
    assert_close(*run(gpu, "one_hot", indices, depth, dtype))


# -- variables and optimizer updates ---------------------------------------------------------
def _step_both(gpu, method, host_arrays, n_steps, **kwargs):
    """Run an in-place update `n_steps` times on both backends; compare every array."""
    dev = [None if a is None else gpu.from_numpy(a) for a in host_arrays]
    ref = [None if a is None else a.copy() for a in host_arrays]
    for step in range(1, n_steps + 1):
        grad = sample(host_arrays[0].shape, seed=step)
        extra = {"step": step} if method == "adam_update" else {}
        getattr(gpu, method)(dev[0], gpu.from_numpy(grad), *dev[1:], **kwargs, **extra)
        getattr(REF, method)(ref[0], grad, *ref[1:], **kwargs, **extra)
    for d, r in zip(dev, ref):
        if r is not None:
            assert_close(gpu.to_numpy(d), r)


@pytest.mark.parametrize("shape", [(1,), (7,), (33, 17), (100_000,), (3, 4, 5)])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_update(gpu, shape, momentum, nesterov):
    velocity = np.zeros(shape, np.float32) if momentum else None
    _step_both(gpu, "sgd_update", [sample(shape), velocity], 5, learning_rate=0.1,
               momentum=momentum, nesterov=nesterov)


@pytest.mark.parametrize("shape", [(1,), (7,), (33, 17), (100_000,), (3, 4, 5)])
def test_adam_update(gpu, shape):
    zeros = np.zeros(shape, np.float32)
    _step_both(gpu, "adam_update", [sample(shape), zeros, zeros.copy()], 6,
               learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7)


@pytest.mark.parametrize("shape", [(1,), (7,), (33, 17), (1000,)])
def test_assign(gpu, shape):
    target = gpu.from_numpy(np.zeros(shape, np.float32))
    value = sample(shape)
    gpu.assign(target, gpu.from_numpy(value))
    assert_close(gpu.to_numpy(target), value)


# -- resources -------------------------------------------------------------------------------
def test_op_loop_reuses_buffers(gpu):
    x = gpu.from_numpy(sample((64, 32)))
    w = gpu.from_numpy(sample((32, 16), seed=1))

    def step(x):
        y = gpu.unary("relu", gpu.matmul(x, w))
        return gpu.binary("add", gpu.reduce("sum", y, (1,), True), x)

    for _ in range(3):
        x = step(x)
    gpu.flush()
    before = gpu.driver.buffer_count
    for _ in range(200):
        x = step(x)
    gpu.to_numpy(x)
    assert gpu.driver.buffer_count <= before
