"""The WebGPU backend's host path agrees with the NumPy backend (checked through a fake device
that stores host arrays, so no GPU is needed)."""

import numpy as np
from webkeras.backend.numpy import NumpyBackend
from webkeras.backend.webgpu.host_fallback import HostPath


class _Boxed:
    def __init__(self, array):
        self.array = array


class FakeDevice:
    def from_numpy(self, array):
        return _Boxed(np.asarray(array))

    def to_numpy(self, x):
        return x.array


def test_host_paths_match_numpy_backend():
    device, host = HostPath(FakeDevice()), NumpyBackend()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    up = FakeDevice().from_numpy
    y = host.conv(x, kernel, (1, 1), (1, 1), 1)
    np.testing.assert_array_equal(device.conv(up(x), up(kernel), (1, 1), (1, 1), 1).array,
                                  y)
    np.testing.assert_array_equal(
        device.conv_input_grad(up(y), up(kernel), x.shape, (1, 1), (1, 1), 1).array,
        host.conv_input_grad(y, kernel, x.shape, (1, 1), (1, 1), 1))
    np.testing.assert_array_equal(
        device.conv_kernel_grad(up(x), up(y), kernel.shape, (1, 1), (1, 1), 1).array,
        host.conv_kernel_grad(x, y, kernel.shape, (1, 1), (1, 1), 1))
    pool = ("max", (2, 2), (2, 2), ((0, 0), (0, 0)))
    pooled = host.pool(x, *pool)
    np.testing.assert_array_equal(device.pool(up(x), *pool).array, pooled)
    np.testing.assert_array_equal(device.pool_grad(up(x), up(pooled), up(pooled),
                                                         *pool).array,
                                  host.pool_grad(x, pooled, pooled, *pool))
    idx = np.array([[0, 2], [2, -1]], dtype="int32")
    updates = rng.normal(size=(2, 2, 2, 4)).astype("float32")
    np.testing.assert_array_equal(
        device.scatter_add(up(idx), up(updates), (2, 3, 4), 1).array,
        host.scatter_add(idx, updates, (2, 3, 4), 1))
