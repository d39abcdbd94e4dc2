"""Our WASM SIMD kernels (C in kernels/wasm/) for the NumPy backend when it runs under Pyodide.

Pyodide's NumPy has no BLAS and no SIMD, so a train step's matrix products, convolutions and
pooling run at scalar speed in the tab. `make setup` builds kernels/wasm/*.c with clang into a
WebAssembly side module (f32x4 SIMD) that the browser wheel carries beside this package as
webkeras/kernels/wasm/webkeras_simd128.wasm, with its sha256 in a `.sha256` file beside it.
`load()` checks the hash and opens the module with ctypes; the wrappers below call it on NumPy
buffers in place (no copies for C-contiguous or transposed operands).

Each wrapper returns None when it does not take a case (dtype, layout, a size where the call
costs more than it saves): the caller then runs NumPy, which stays the reference. Natively
nothing is loaded (`kernels()` is None): NumPy has a BLAS there.

    from webkeras.backend.numpy import wasm_kernels
    k = wasm_kernels.kernels()          # None natively, or if the module is missing
    y = k.matmul(a, b, transpose_b=True) if k else None
"""

import ctypes
import hashlib
import os
import sys
import warnings

import numpy as np

MODULE_NAME = "webkeras_simd128.wasm"
#: `WEBKERAS_WASM_KERNELS=0` turns the kernels off (NumPy everywhere), e.g. to compare.
ENV_SWITCH = "WEBKERAS_WASM_KERNELS"
#: Below this many multiply-adds NumPy's own loop beats the ctypes call (measured in Chromium).
MIN_GEMM_WORK = 32768

_F32 = np.dtype(np.float32)
_FLOAT = _F32.itemsize
_UNSET = object()
_kernels = _UNSET


def module_path():
    """Where the wheel puts the built module: webkeras/kernels/wasm/ (None if webkeras.kernels
    is not a directory, e.g. a zipped install)."""
    import webkeras.kernels

    base = os.path.dirname(os.path.abspath(webkeras.kernels.__file__))
    return os.path.join(base, "wasm", MODULE_NAME)


def load(path=None):
    """Open the side module at `path` (default `module_path()`) after checking its sha256
    against the `.sha256` file written when it was built. Returns a `Kernels`, or raises
    FileNotFoundError / ValueError / OSError saying what is wrong."""
    path = path or module_path()
    with open(path, "rb") as f:
        data = f.read()
    with open(path + ".sha256", encoding="ascii") as f:
        expected = f.read().split()[0].strip().lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"{path}: sha256 {actual} does not match {expected} recorded when it was built; "
            "rebuild it (`make setup`) or reinstall the wheel")
    return Kernels(ctypes.CDLL(path))


def kernels():
    """The loaded kernels when running under Pyodide (once per process), else None. A missing
    or corrupted module warns once and leaves NumPy in charge."""
    global _kernels
    if _kernels is _UNSET:
        _kernels = None
        if sys.platform == "emscripten" and os.environ.get(ENV_SWITCH, "1") != "0":
            try:
                _kernels = load()
            except (OSError, ValueError) as error:
                warnings.warn(f"WASM SIMD kernels not loaded, NumPy computes instead: {error}",
                              RuntimeWarning, stacklevel=2)
    return _kernels


def set_enabled(enabled):
    """Turn the kernels on (loading them if needed, under Pyodide) or off for this process."""
    global _kernels
    _kernels = _UNSET
    os.environ[ENV_SWITCH] = "1" if enabled else "0"
    return kernels()


def _matrix(x, transposed):
    """(pointer, leading dimension, transposed) of a 2-D float32 view as the kernel reads it:
    row-major with a row stride, or column-major read as the transpose of a row-major one.
    Other layouts are copied to C order first; returns the array kept alive too."""
    rows, cols = x.shape
    s0, s1 = x.strides
    if s1 == _FLOAT and s0 % _FLOAT == 0 and (s0 >= _FLOAT * cols or rows == 1):
        return x, max(s0 // _FLOAT, cols, 1), transposed
    if s0 == _FLOAT and s1 % _FLOAT == 0 and (s1 >= _FLOAT * rows or cols == 1):
        return x, max(s1 // _FLOAT, rows, 1), not transposed
    x = np.ascontiguousarray(x)
    return x, max(cols, 1), transposed


class Kernels:
    """Python wrappers over one loaded module; each returns None for a case it leaves to NumPy."""

    def __init__(self, lib):
        ptr, i32 = ctypes.c_void_p, ctypes.c_int
        self.lib = lib
        self._sgemm = lib.wk_sgemm
        self._sgemm.argtypes = [i32, i32, i32, ptr, i32, i32, ptr, i32, i32, ptr, i32, i32, ptr]
        self._sgemm.restype = None
        lib.wk_sgemm_workspace.restype = i32
        self._work = np.empty(lib.wk_sgemm_workspace(), dtype=np.float32)
        self._work_ptr = self._work.ctypes.data

    def sgemm(self, a, b, transpose_a=False, transpose_b=False, out=None, accumulate=False):
        """op(a) @ op(b) for 2-D float32 `a`, `b` of any strides, into `out` (C-contiguous,
        float32) or a new array; with `accumulate`, out += op(a) @ op(b)."""
        a, lda, ta = _matrix(a, transpose_a)
        b, ldb, tb = _matrix(b, transpose_b)
        m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
        n = b.shape[0] if transpose_b else b.shape[1]
        if out is None:
            out = np.empty((m, n), dtype=np.float32)
        self._sgemm(m, n, k, a.ctypes.data, lda, ta, b.ctypes.data, ldb, tb,
                    out.ctypes.data, max(n, 1), accumulate, self._work_ptr)
        return out

    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        """The backend's matmul for float32 matrices (or a stack of rows times a matrix), else
        None."""
        if a.dtype != _F32 or b.dtype != _F32 or b.ndim != 2 or a.ndim < 2:
            return None
        if a.ndim > 2:
            # (..., m, k) @ (k, n): one product over all leading rows, when they are rows.
            if transpose_a or not a.flags.c_contiguous:
                return None
            lead = a.shape[:-1]
            a = a.reshape(-1, a.shape[-1])
        else:
            lead = None
        m, k = (a.shape[1], a.shape[0]) if transpose_a else a.shape
        kb, n = (b.shape[1], b.shape[0]) if transpose_b else b.shape
        if k != kb or m * n * k < MIN_GEMM_WORK:
            return None
        out = self.sgemm(a, b, transpose_a, transpose_b)
        return out if lead is None else out.reshape(lead + (n,))
