"""Backend selection: the one place the backend is chosen.

`WEBKERAS_BACKEND` (``numpy`` or ``webgpu``) picks the backend at import; `set_backend` switches
later. Layers and ops never import a backend module directly: they call `get_backend()`.
"""

import contextlib
import os
import sys

from webkeras.utils import naming

_BACKEND_NAMES = ("numpy", "webgpu")
_current = None
_image_data_format = "channels_last"
_epsilon = 1e-7
_floatx = "float32"


def _create(name):
    if name == "numpy":
        from webkeras.backend.numpy import NumpyBackend

        return NumpyBackend()
    if name == "webgpu":
        from webkeras.backend.webgpu import WebGPUBackend

        return WebGPUBackend()
    raise ValueError(
        f"Unknown backend: received '{name}'. Expected one of {_BACKEND_NAMES} "
        "(set WEBKERAS_BACKEND or call keras.backend.set_backend)."
    )


def set_backend(name):
    """Select the backend by name ('numpy' or 'webgpu') for everything created afterwards."""
    global _current
    _current = _create(str(name).lower())
    return _current


@contextlib.contextmanager
def backend_scope(backend_or_name):
    """Runs the block on a backend (a name, which makes a new one, or a backend object), then
    restores the very backend object that was active before, device and buffers included."""
    global _current
    previous = _current
    if isinstance(backend_or_name, str):
        set_backend(backend_or_name)
    else:
        _current = backend_or_name
    try:
        yield _current
    finally:
        _current = previous


def get_backend():
    """The active backend object (created on first use)."""
    global _current
    if _current is None:
        set_backend(os.environ.get("WEBKERAS_BACKEND", "numpy"))
    return _current


def backend():
    """The active backend's name, as `keras.backend.backend()` returns it."""
    return get_backend().name


def device():
    """What the active backend computes on, for people: the WebGPU adapter's description
    ("swiftshader (google)"), or where NumPy runs."""
    driver = getattr(get_backend(), "driver", None)
    adapter = getattr(driver, "adapter_info", "") if driver is not None else ""
    if adapter:
        return adapter
    return "NumPy in WebAssembly" if sys.platform == "emscripten" else "NumPy"


def image_data_format():
    return _image_data_format


def set_image_data_format(data_format):
    global _image_data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Expected data_format to be 'channels_last' or 'channels_first', "
            f"received: {data_format!r}"
        )
    _image_data_format = data_format


def epsilon():
    return _epsilon


def floatx():
    return _floatx


def set_epsilon(value):
    global _epsilon
    _epsilon = float(value)


def set_floatx(value):
    global _floatx
    if value not in ("float16", "float32", "float64"):
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected 'float16', 'float32' "
                         "or 'float64'.")
    _floatx = str(value)


def clear_session():
    """Reset layer-name counters (Keras semantics); the backend stays selected."""
    naming.reset_uids()
