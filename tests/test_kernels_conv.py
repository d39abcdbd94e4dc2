"""The WebGPU backend's convolution and pooling kernels against the NumPy backend: conv and
its two VJPs, pool and pool_grad, over 1-D/2-D/3-D shapes with strides, dilation, groups
(depthwise too), pads, 1x1 and whole-input windows, odd and large sizes; a CNN train step."""

import numpy as np
import pytest
from webkeras import backend
from webkeras.backend.base import Backend
from webkeras.backend.webgpu import WebGPUBackend

from tests.test_kernels import REF, assert_close  # skips without a WebGPU adapter

WINDOW_PRIMITIVES = ("conv", "conv_input_grad", "conv_kernel_grad", "pool", "pool_grad")


@pytest.fixture(scope="module")
def gpu():
    backend = WebGPUBackend()
    backend.limits.windows_on_host = False  # the kernels, even on lavapipe
    return backend


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# (x shape, kernel shape, strides, dilation, groups); groups = channels // kernel_shape[-2].
CONV_CASES = [
    ((1, 5, 3), (1, 3, 4), (1,), (1,), 1),  # 1-D, 1x1 kernel
    ((2, 9, 2), (3, 2, 5), (2,), (1,), 1),
    ((1, 11, 4), (3, 2, 6), (1,), (3,), 2),  # dilation and 2 groups
    ((3, 7, 1), (2, 1, 3), (3,), (1,), 1),  # stride > kernel, one input channel
    ((1, 9, 3), (2, 3, 3), (4,), (2,), 1),
    ((2, 4, 3), (4, 3, 1), (1,), (1,), 1),  # the window is the whole input
    ((1, 6, 5, 4), (2, 3, 2, 4), (2, 1), (1, 2), 2),
    ((2, 7, 7, 3), (1, 1, 3, 5), (1, 1), (1, 1), 1),  # 1x1
    ((1, 9, 8, 2), (2, 2, 2, 3), (3, 3), (1, 1), 1),  # stride > kernel
    ((2, 8, 8, 6), (3, 3, 1, 12), (1, 1), (1, 1), 6),  # depthwise, multiplier 2
    ((1, 10, 9, 4), (3, 3, 1, 4), (2, 2), (2, 2), 4),  # depthwise, strided and dilated
    ((1, 13, 11, 5), (3, 3, 5, 7), (1, 1), (1, 1), 1),  # odd sizes
    ((3, 6, 6, 8), (2, 2, 2, 8), (1, 1), (1, 1), 4),  # 4 groups of 2 channels
    ((2, 6, 6, 9), (3, 3, 3, 6), (1, 2), (1, 1), 3),  # 3 groups of 3 channels
    ((1, 3, 3, 2), (3, 3, 2, 2), (1, 1), (1, 1), 1),  # one output position
    ((4, 12, 12, 3), (5, 5, 3, 8), (2, 2), (1, 1), 1),
    ((1, 7, 7, 70), (3, 3, 70, 65), (1, 1), (1, 1), 1),  # k = 630, n = 65: no tile multiple
    ((2, 5, 6, 4, 3), (2, 2, 2, 3, 2), (1, 2, 1), (1, 1, 2), 1),  # 3-D
    ((1, 4, 4, 4, 2), (1, 1, 1, 2, 3), (2, 2, 2), (1, 1, 1), 1),  # 3-D 1x1, strided
    ((1, 6, 5, 7, 4), (3, 2, 2, 2, 4), (1, 1, 2), (1, 2, 1), 2),  # 3-D groups
    ((1, 5, 6, 5, 2), (2, 3, 2, 1, 2), (2, 1, 1), (1, 1, 2), 2),  # 3-D depthwise
    ((32, 28, 28, 16), (3, 3, 16, 32), (1, 1), (1, 1), 1),  # large
]


def _conv_args(case):
    x_shape, k_shape, strides, dilation, groups = case
    x, kernel = normal(*x_shape, seed=1), normal(*k_shape, seed=2)
    y = REF.conv(x, kernel, strides, dilation, groups)
    return x, kernel, y, (strides, dilation, groups)


def _on_gpu(gpu, method, *args):
    up = [gpu.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    return gpu.to_numpy(getattr(gpu, method)(*up))


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv(gpu, case):
    x, kernel, y, args = _conv_args(case)
    assert_close(_on_gpu(gpu, "conv", x, kernel, *args), y)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_input_grad(gpu, case):
    x, kernel, y, args = _conv_args(case)
    grad = normal(*y.shape, seed=3)
    assert_close(_on_gpu(gpu, "conv_input_grad", grad, kernel, x.shape, *args),
                 REF.conv_input_grad(grad, kernel, x.shape, *args))


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv_kernel_grad(gpu, case):
    x, kernel, y, args = _conv_args(case)
    grad = normal(*y.shape, seed=3)
    assert_close(_on_gpu(gpu, "conv_kernel_grad", x, grad, kernel.shape, *args),
                 REF.conv_kernel_grad(x, grad, kernel.shape, *args))


def test_conv_of_int_input_is_float(gpu):
    x = np.arange(2 * 5 * 5 * 2, dtype=np.int32).reshape(2, 5, 5, 2) % 7
    kernel = normal(3, 3, 2, 3)
    got = _on_gpu(gpu, "conv", x, kernel, (1, 1), (1, 1), 1)
    assert_close(got, REF.conv(x.astype(np.float32), kernel, (1, 1), (1, 1), 1))


# (x shape, pool size, strides, pads per spatial axis)
POOL_CASES = [
    ((1, 6, 2), (2,), (2,), ((0, 0),)),
    ((2, 7, 3), (3,), (2,), ((1, 1),)),
    ((1, 5, 1), (1,), (1,), ((0, 0),)),  # 1x1
    ((1, 9, 2), (2,), (3,), ((0, 0),)),  # stride > pool
    ((1, 8, 3), (4,), (1,), ((1, 2),)),
    ((1, 12, 2), (5,), (4,), ((2, 2),)),
    ((2, 6, 6, 2), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((1, 5, 5, 2), (3, 3), (2, 2), ((1, 1), (1, 1))),
    ((1, 7, 6, 3), (3, 2), (2, 2), ((1, 1), (0, 1))),
    ((3, 6, 5, 4), (3, 2), (1, 1), ((0, 0), (0, 0))),  # overlapping windows
    ((1, 9, 9, 1), (2, 2), (3, 3), ((0, 0), (0, 0))),
    ((2, 13, 11, 5), (3, 3), (2, 2), ((1, 1), (1, 1))),  # odd sizes
    ((1, 3, 3, 2), (3, 3), (1, 1), ((1, 1), (1, 1))),  # windows mostly padding
    ((2, 5, 7, 3), (1, 3), (1, 2), ((0, 0), (1, 1))),
    ((1, 10, 10, 8), (5, 5), (5, 5), ((0, 0), (0, 0))),
    ((4, 3, 3, 1), (2, 2), (1, 1), ((0, 1), (0, 1))),
    ((1, 17, 19, 3), (2, 3), (3, 2), ((0, 1), (1, 1))),
    ((1, 4, 4, 4, 2), (2, 2, 2), (1, 2, 2), ((0, 0), (0, 0), (0, 0))),  # 3-D
    ((1, 4, 5, 4, 1), (2, 2, 2), (1, 1, 1), ((0, 1), (0, 1), (0, 1))),
    ((1, 6, 6, 6, 3), (3, 3, 3), (2, 2, 2), ((1, 1), (1, 1), (1, 1))),
    ((32, 26, 26, 16), (2, 2), (2, 2), ((0, 0), (0, 0))),  # large
]


def _pool_input(shape, mode):
    # Max pooling gets small integers, so windows hold tied maxima (they share the gradient).
    x = normal(*shape, seed=4)
    return np.round(x * 1.5) if mode == "max" else x


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool(gpu, case, mode):
    shape, size, strides, pads = case
    x = _pool_input(shape, mode)
    assert_close(_on_gpu(gpu, "pool", x, mode, size, strides, pads),
                 REF.pool(x, mode, size, strides, pads))


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_grad(gpu, case, mode):
    shape, size, strides, pads = case
    x = _pool_input(shape, mode)
    y = REF.pool(x, mode, size, strides, pads)
    grad = normal(*y.shape, seed=5)
    assert_close(_on_gpu(gpu, "pool_grad", x, y, grad, mode, size, strides, pads),
                 REF.pool_grad(x, y, grad, mode, size, strides, pads))


def test_max_pool_of_ints_stays_int(gpu):
    x = np.arange(-20, 16, dtype=np.int32).reshape(1, 6, 6, 1) * 3 % 11
    args = ("max", (2, 2), (1, 1), ((0, 1), (0, 1)))
    got = _on_gpu(gpu, "pool", x, *args)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, REF.pool(x, *args))


def test_window_primitives_run_as_kernels_not_host_fallbacks():
    for name in WINDOW_PRIMITIVES:
        assert getattr(WebGPUBackend, name) is not getattr(Backend, name), name


def test_software_adapters_run_window_primitives_on_the_host():
    # lavapipe here: the host's BLAS is faster than the emulated GPU (see webgpu/conv.py).
    assert WebGPUBackend().limits.windows_on_host


def _small_cnn():
    import webkeras as keras

    layers = keras.layers
    model = keras.Sequential([
        keras.Input((10, 10, 2)),
        layers.Conv2D(4, 3, strides=1, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid"),
        layers.Conv2D(3, 1),
        layers.AveragePooling2D(2, padding="same"),
        layers.Flatten(),
        layers.Dense(3),
    ])
    # The last layer outputs logits: a probability loss would clip them and zero the gradient.
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _train_step(name, weights, x, y, windows_on_host=None):
    """(loss, weights after one SGD step) of the small CNN on backend `name`."""
    backend.set_backend(name)
    if windows_on_host is not None:
        backend.get_backend().limits.windows_on_host = windows_on_host
    model = _small_cnn()
    if weights is not None:
        model.set_weights(weights)
    start = [np.array(w) for w in model.get_weights()]  # copies: the step updates in place
    loss = float(np.asarray(model.train_on_batch(x, y)).reshape(-1)[0])
    return start, loss, model.get_weights()


@pytest.mark.parametrize("windows_on_host", [False, True], ids=["kernels", "host"])
def test_cnn_trains_one_step_the_same_on_both_backends(windows_on_host):
    x, y = normal(6, 10, 10, 2, seed=6), np.array([0, 1, 2, 0, 1, 2])
    with backend.backend_scope("numpy"):
        start, want_loss, want = _train_step("numpy", None, x, y)
        _, got_loss, got = _train_step("webgpu", start, x, y, windows_on_host)
    assert abs(got_loss - want_loss) <= 1e-4 * max(1.0, abs(want_loss))
    assert not all(np.array_equal(a, b) for a, b in zip(want, start))  # the step did move
    for a, b in zip(got, want):
        assert_close(a, b)
