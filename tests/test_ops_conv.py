"""The convolution and pooling primitives: finite-difference VJP checks (float64) over strides,
dilation, padding and groups, agreement with direct loops, max-pool ties, host fallbacks."""

import itertools

import numpy as np
import pytest
from webkeras import backend, ops
from webkeras.backend.numpy import NumpyBackend
from webkeras.ops.conv import conv_input_grad, conv_kernel_grad
from webkeras.ops.tape import GradientTape
from webkeras.testing.gradients import check_gradients as check_with_finite_differences


pytestmark = pytest.mark.usefixtures("numpy_backend")


def check_gradients(fn, *arrays, eps=1e-6):
    # Convolutions sum many products: a tighter absolute bound than the default.
    check_with_finite_differences(fn, *arrays, eps=eps, atol=1e-7)


rng = np.random.default_rng(3)


def r(*shape):
    return rng.uniform(-2, 2, size=shape)


def direct_conv(x, k, strides, dilation, groups):
    """Reference: channels-last correlation by explicit loops over output positions."""
    nd = x.ndim - 2
    size, per_group, filters = k.shape[:nd], k.shape[-2], k.shape[-1]
    fg = filters // groups
    out = [(d - (s_ - 1) * r_ - 1) // st + 1
           for d, s_, r_, st in zip(x.shape[1:-1], size, dilation, strides)]
    y = np.zeros((x.shape[0], *out, filters))
    for pos in itertools.product(*[range(o) for o in out]):
        for tap in itertools.product(*[range(s_) for s_ in size]):
            idx = tuple(p * st + t * r_ for p, st, t, r_ in zip(pos, strides, tap, dilation))
            for g in range(groups):
                xs = x[(slice(None),) + idx + (slice(g * per_group, (g + 1) * per_group),)]
                y[(slice(None),) + pos + (slice(g * fg, (g + 1) * fg),)] += \
                    xs @ k[tap][:, g * fg:(g + 1) * fg]
    return y


# (input shape, kernel shape, kwargs): strides, dilation, padding, groups, 1-D/2-D/3-D.
CONV_CASES = [
    ((2, 7, 3), (3, 3, 4), {}),
    ((1, 9, 2), (2, 2, 3), {"strides": 2, "padding": "same"}),
    ((1, 9, 2), (3, 2, 2), {"dilation_rate": 2, "padding": "same"}),
    ((2, 5, 6, 2), (3, 2, 2, 3), {}),
    ((1, 6, 6, 2), (3, 3, 2, 2), {"strides": 2, "padding": "same"}),
    ((1, 7, 6, 2), (2, 3, 2, 2), {"strides": (2, 1), "dilation_rate": (1, 2)}),
    ((1, 5, 5, 3), (2, 2, 3, 2), {"strides": 3, "padding": "valid"}),
    ((1, 5, 5, 4), (2, 2, 2, 4), {"padding": "same"}),  # 2 groups
    ((1, 6, 5, 6), (3, 2, 2, 3), {"strides": 2, "dilation_rate": 1}),  # 3 groups
    ((1, 6, 6, 4), (2, 2, 1, 4), {"dilation_rate": 2}),  # 4 groups (depthwise)
    ((1, 4, 5, 4, 2), (2, 2, 2, 2, 2), {"strides": (1, 2, 1), "padding": "same"}),
    ((1, 2, 4, 4), (2, 2, 2, 3), {"data_format": "channels_first", "padding": "same"}),
]


@pytest.mark.parametrize("x_shape,k_shape,kwargs", CONV_CASES)
def test_conv_gradients(x_shape, k_shape, kwargs):
    check_gradients(lambda x, k: ops.conv(x, k, **kwargs), r(*x_shape), r(*k_shape))


@pytest.mark.parametrize("x_shape,k_shape,kwargs", [c for c in CONV_CASES
                                                    if c[2].get("padding", "valid") == "valid"])
def test_conv_matches_direct_loops(x_shape, k_shape, kwargs):
    x, k = r(*x_shape), r(*k_shape)
    nd = x.ndim - 2
    strides = ops.conv.__globals__["_tuple"](kwargs.get("strides", 1), nd, "strides")
    dilation = ops.conv.__globals__["_tuple"](kwargs.get("dilation_rate", 1), nd, "dilation")
    expected = direct_conv(x, k, strides, dilation, x.shape[-1] // k.shape[-2])
    np.testing.assert_allclose(ops.conv(x, k, **kwargs).numpy(), expected, rtol=1e-10,
                               atol=1e-12)


def test_conv_float32_stays_float32():
    x, k = r(2, 6, 6, 3).astype("float32"), r(3, 3, 3, 4).astype("float32")
    y = ops.conv(x, k)
    assert y.dtype == "float32"
    np.testing.assert_allclose(y.numpy(), direct_conv(x, k, (1, 1), (1, 1), 1), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("kwargs", [
    {"strides": 2, "padding": "same"},
    {"strides": 2, "padding": "valid"},
    {"strides": 1, "padding": "same", "dilation_rate": 2},
    {"strides": 3, "padding": "valid", "output_padding": 1},
    {"strides": 2, "padding": "same", "output_padding": 0},
])
def test_conv_transpose_gradients(kwargs):
    check_gradients(lambda x, k: ops.conv_transpose(x, k, **kwargs), r(1, 3, 3, 2),
                    r(3, 3, 2, 2))


def test_conv_transpose_is_the_adjoint_of_conv():
    # <conv(a, k), b> == <a, conv_transpose(b, k)> when shapes line up (valid, stride 2).
    a, k = r(2, 7, 7, 3), r(3, 3, 3, 2)
    y = ops.conv(a, k, strides=2)
    b = r(*y.shape)
    back = ops.conv_transpose(b, k, strides=2, padding="valid", output_padding=0)
    np.testing.assert_allclose(np.sum(y.numpy() * b), np.sum(a * back.numpy()), rtol=1e-10)


def test_depthwise_and_separable_gradients():
    check_gradients(lambda x, k: ops.depthwise_conv(x, k, 2, "same"), r(1, 5, 5, 2),
                    r(3, 3, 2, 2))
    check_gradients(lambda x, d, p: ops.separable_conv(x, d, p, dilation_rate=2),
                    r(1, 6, 6, 2), r(2, 2, 2, 1), r(1, 1, 2, 3))


def test_gradient_primitives_have_vjps():
    # conv_input_grad is conv_transpose's forward, so its own VJP must be right too.
    x, k = r(1, 6, 5, 4), r(2, 3, 2, 4)
    g = ops.conv(x, k, strides=(2, 1)).numpy()
    check_gradients(lambda g_, k_: conv_input_grad(g_, k_, x.shape, (2, 1), (1, 1), 2), g, k)
    check_gradients(lambda x_, g_: conv_kernel_grad(x_, g_, k.shape, (2, 1), (1, 1), 2), x, g)


POOL_CASES = [
    ("max", (2, 6, 6, 2), {"pool_size": 2}),
    ("max", (1, 5, 5, 2), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("max", (1, 6, 5, 2), {"pool_size": (3, 2), "strides": 1}),
    ("max", (2, 7, 3), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("max", (1, 4, 4, 4, 2), {"pool_size": 2, "strides": (1, 2, 2)}),
    ("max", (1, 2, 5, 5), {"pool_size": 2, "padding": "same",
                           "data_format": "channels_first"}),
    ("avg", (2, 6, 6, 2), {"pool_size": 2}),
    ("avg", (1, 5, 4, 2), {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("avg", (1, 6, 5, 2), {"pool_size": (2, 3), "strides": 1, "padding": "same"}),
    ("avg", (2, 6, 2), {"pool_size": 2}),
    ("avg", (1, 4, 5, 4, 1), {"pool_size": 2, "padding": "same"}),
]


@pytest.mark.parametrize("mode,shape,kwargs", POOL_CASES)
def test_pool_gradients(mode, shape, kwargs):
    pool = ops.max_pool if mode == "max" else ops.average_pool
    # Distinct values so no max is tied (a tie makes the max non-differentiable).
    x = rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 7.0
    check_gradients(lambda t: pool(t, **kwargs), x, eps=1e-4)


def test_pool_matches_direct_loops():
    x = r(2, 7, 6, 3)
    y_max = ops.max_pool(x, 3, 2, "same").numpy()
    y_avg = ops.average_pool(x, 3, 2, "same").numpy()
    # 'same' with size 3, stride 2: pads (1, 1) on rows (7) and (0, 1) on columns (6).
    for i, j in itertools.product(range(4), range(3)):
        window = x[:, max(2 * i - 1, 0):2 * i + 2, 2 * j:2 * j + 3]
        np.testing.assert_allclose(y_max[:, i, j], window.max(axis=(1, 2)))
        np.testing.assert_allclose(y_avg[:, i, j], window.mean(axis=(1, 2)))


def test_max_pool_ties_share_the_gradient():
    x = ops.convert_to_tensor(np.array([[1.0, 1.0], [0.0, 1.0]]).reshape(1, 2, 2, 1))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max_pool(x, 2))
    grad = tape.gradient(y, x).numpy().reshape(2, 2)
    np.testing.assert_allclose(grad, [[1 / 3, 1 / 3], [0.0, 1 / 3]])


def test_overlapping_max_pool_sums_gradients_of_windows():
    x = ops.convert_to_tensor(np.array([0.0, 5.0, 1.0, 2.0]).reshape(1, 4, 1))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max_pool(x, 2, strides=1))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy().ravel(), [0, 2, 0, 1])


@pytest.fixture(scope="module")
def webgpu():
    from webkeras.backend.webgpu import WebGPUBackend

    return WebGPUBackend()


def test_webgpu_backend_matches_numpy_backend(webgpu):
    """The real WebGPU backend (wgpu-py) runs conv and pool primitives as the NumPy one does."""
    host = NumpyBackend()
    up, down = webgpu.from_numpy, webgpu.to_numpy
    x, k = r(2, 6, 5, 4).astype("float32"), r(2, 3, 2, 4).astype("float32")
    args = ((2, 1), (1, 2), 2)
    y = host.conv(x, k, *args)
    np.testing.assert_allclose(down(webgpu.conv(up(x), up(k), *args)), y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(down(webgpu.conv_input_grad(up(y), up(k), x.shape, *args)),
                               host.conv_input_grad(y, k, x.shape, *args), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(down(webgpu.conv_kernel_grad(up(x), up(y), k.shape, *args)),
                               host.conv_kernel_grad(x, y, k.shape, *args), rtol=1e-5, atol=1e-5)
    for mode in ("max", "average"):
        pool = (mode, (3, 2), (2, 2), ((1, 1), (0, 1)))
        p = host.pool(x, *pool)
        np.testing.assert_allclose(down(webgpu.pool(up(x), *pool)), p, rtol=1e-6)
        np.testing.assert_allclose(down(webgpu.pool_grad(up(x), up(p), up(p), *pool)),
                                   host.pool_grad(x, p, p, *pool), rtol=1e-6)


def test_cnn_predicts_the_same_on_both_backends():
    import webkeras as keras

    layers = keras.layers
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Conv2D(3, 3, padding="same"),
                              layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(5)])
    x = r(3, 12, 12, 1).astype("float32")
    expected = model.predict_on_batch(x)
    backend.set_backend("webgpu")
    np.testing.assert_allclose(model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)
