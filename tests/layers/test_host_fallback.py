"""The WebGPU host fallbacks agree with the NumPy backend (checked through a fake device
backend that stores host arrays, so no GPU is needed)."""

import numpy as np
from webkeras.backend.base import Backend
from webkeras.backend.numpy import NumpyBackend
from webkeras.backend.webgpu.host_fallback import HOST_PRIMITIVES, HostFallbackMixin, install


class _Boxed:
    def __init__(self, array):
        self.array = array


class FakeDevice(Backend):
    def from_numpy(self, array):
        return _Boxed(np.asarray(array))

    def to_numpy(self, x):
        return x.array


def test_install_fills_only_missing_primitives():
    cls = install(type("Device", (FakeDevice,), {}))
    for name in HOST_PRIMITIVES:
        assert getattr(cls, name) is getattr(HostFallbackMixin, name)


def test_fallbacks_match_numpy_backend():
    device, host = install(type("Device", (FakeDevice,), {}))(), NumpyBackend()
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    slices = (slice(0, 2, 1), slice(2, None, -1), slice(1, 4, 2))
    np.testing.assert_array_equal(device.strided_slice(device.from_numpy(x), slices).array,
                                  host.strided_slice(x, slices))
    part = host.strided_slice(x, slices)
    np.testing.assert_array_equal(
        device.slice_scatter(device.from_numpy(part), x.shape, slices).array,
        host.slice_scatter(part, x.shape, slices))
    idx = np.array([[0, 2], [1, 1]], dtype="int32")
    np.testing.assert_array_equal(
        device.take(device.from_numpy(x), device.from_numpy(idx), 1).array,
        host.take(x, idx, 1))
    gathered = host.take(x, idx, 1)
    np.testing.assert_array_equal(
        device.scatter_add(device.from_numpy(idx), device.from_numpy(gathered), x.shape,
                           1).array,
        host.scatter_add(idx, gathered, x.shape, 1))
    np.testing.assert_array_equal(
        device.concatenate([device.from_numpy(x), device.from_numpy(x)], 2).array,
        np.concatenate([x, x], 2))
    np.testing.assert_allclose(device.erf(device.from_numpy(x / 10)).array,
                               host.erf(x / 10))


def test_conv_layer_runs_on_webgpu_through_host_fallbacks():
    import pytest

    import webkeras as keras
    from webkeras import backend

    previous = backend.get_backend()
    try:
        gpu = backend.set_backend("webgpu")
    except Exception as error:  # noqa: BLE001 - no adapter here
        pytest.skip(f"WebGPU unavailable: {error}")
    try:
        install(type(gpu))
        x = np.random.default_rng(0).uniform(-1, 1, (1, 5, 5, 2)).astype("float32")
        layer = keras.layers.Conv2D(3, 3, padding="same", activation="gelu")
        got = layer(x).numpy()
        weights = layer.get_weights()
        backend.set_backend("numpy")
        reference = keras.layers.Conv2D(3, 3, padding="same", activation="gelu")
        reference(x)
        reference.set_weights(weights)
        np.testing.assert_allclose(got, reference(x).numpy(), rtol=1e-5, atol=1e-6)
    finally:
        backend._current = previous
