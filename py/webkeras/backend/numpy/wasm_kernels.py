"""Our WASM SIMD kernels (C in kernels/wasm/) for the NumPy backend when it runs under Pyodide.

Pyodide's NumPy has no BLAS and no SIMD, so a train step's matrix products, convolutions,
pooling and optimizer updates run at scalar speed in the tab. `make setup` builds
kernels/wasm/*.c with clang into two WebAssembly side modules: SIMD128 (f32x4) and relaxed SIMD
(the same with fused multiply-add; Chrome 114+). The browser wheel carries both as
webkeras/kernels/wasm/*.wasm, each with its sha256 in a `.sha256` file beside it. `kernels()`
picks the relaxed build where the browser validates relaxed SIMD, checks the hash and opens the
module with ctypes; the wrappers below call it on NumPy buffers in place (no copies for
C-contiguous or transposed operands).

Each wrapper returns None when it does not take a case (dtype, layout, a size where the call
costs more than it saves): the caller then runs NumPy, which stays the reference. Natively
nothing is loaded (`kernels()` is None): NumPy has a BLAS there.

    from webkeras.backend.numpy import wasm_kernels
    k = wasm_kernels.kernels()          # None natively, or if no module loads
    y = k.matmul(a, b, transpose_b=True) if k else None

`WEBKERAS_WASM_KERNELS=0` turns them off; `=simd128` or `=relaxed_simd` picks a build.
"""

import ctypes
import hashlib
import math
import os
import sys
import warnings

import numpy as np

from webkeras.backend.base import adam_step_size
from webkeras.backend.numpy.wasm_conv import ConvKernels, out_spatial, window_2d

#: The builds, best first: file names in webkeras/kernels/wasm/.
MODULES = {"relaxed_simd": "webkeras_relaxed_simd.wasm", "simd128": "webkeras_simd128.wasm"}
#: `0` turns the kernels off (NumPy everywhere), e.g. to compare; a key of MODULES picks a build.
ENV_SWITCH = "WEBKERAS_WASM_KERNELS"
# The smallest module using f32x4.relaxed_madd (0xfd 0x105): () -> v128 of three zero vectors.
_RELAXED_PROBE = bytes.fromhex("0061736d01000000" "0105016000017b" "03020100" "0a3d013b00"
                               + ("fd0c" + "00" * 16) * 3 + "fd8502" "0b")
#: Below this many multiply-adds NumPy's own loop beats a kernel call (~15 us in Pyodide).
MIN_GEMM_WORK = 32768
#: Below this many elements an optimizer update stays in NumPy: none does (a kernel call costs
#: ~5 us in the tab; NumPy's dozen passes over even a 10-element bias, ~35 us).
MIN_UPDATE_SIZE = 1
#: Below this many elements ReLU and bias additions stay in NumPy.
MIN_ELEMENTWISE = 2048

#: The module's functions that return nothing (the others return an int).
VOID_FUNCTIONS = ("wk_sgemm", "wk_sgemm_batched", "wk_im2col", "wk_col2im", "wk_conv_direct",
                  "wk_depthwise_conv", "wk_depthwise_conv_input_grad",
                  "wk_depthwise_conv_kernel_grad", "wk_relu", "wk_add_bias", "wk_pool2d",
                  "wk_pool2d_grad", "wk_adam", "wk_sgd", "wk_relu_grad", "wk_sum_rows")
_F32 = np.dtype(np.float32)
_FLOAT = _F32.itemsize
_UNSET = object()
_kernels = _UNSET


def module_path(variant="simd128"):
    """Where the wheel puts a build (a key of MODULES): webkeras/kernels/wasm/."""
    import webkeras.kernels

    base = os.path.dirname(os.path.abspath(webkeras.kernels.__file__))
    return os.path.join(base, "wasm", MODULES[variant])


def relaxed_simd_supported():
    """Whether this WebAssembly engine validates relaxed SIMD (False outside a JS runtime)."""
    try:
        import js
        from pyodide.ffi import to_js
    except ImportError:
        return False
    return bool(js.WebAssembly.validate(to_js(_RELAXED_PROBE)))


def variants():
    """The builds to try, best first, as ENV_SWITCH and the engine allow."""
    wanted = os.environ.get(ENV_SWITCH, "")
    if wanted in MODULES:
        return [wanted]
    return (["relaxed_simd"] if relaxed_simd_supported() else []) + ["simd128"]


def load(path=None):
    """Open the side module at `path` (default `module_path()`) after checking its sha256
    against the `.sha256` file written when it was built. Returns a `Kernels`, or raises
    FileNotFoundError / ValueError / OSError saying what is wrong."""
    path = path or module_path()
    with open(path, "rb") as f:
        data = f.read()
    with open(path + ".sha256", encoding="ascii") as f:
        expected = (f.read().split() or ["(empty)"])[0].lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"{path}: sha256 {actual} does not match {expected} recorded when it was built; "
            "rebuild it (`make setup`) or reinstall the wheel")
    return Kernels(ctypes.CDLL(path), path)


def kernels():
    """The loaded kernels when running under Pyodide (once per process), else None: the best
    build that loads; a missing or corrupted one warns and the next is tried, NumPy last."""
    global _kernels
    if _kernels is _UNSET:
        _kernels = None
        if sys.platform == "emscripten" and os.environ.get(ENV_SWITCH, "1") != "0":
            for variant in variants():
                try:
                    _kernels = load(module_path(variant))
                    _kernels.variant = variant
                    break
                except (OSError, ValueError) as error:
                    warnings.warn(f"WASM kernels ({variant}) not loaded: {error}",
                                  RuntimeWarning, stacklevel=2)
    return _kernels


def set_enabled(enabled, variant=None):
    """Turn the kernels on (the best build, or `variant`; loaded if needed, under Pyodide) or
    off for this process; backends created afterwards use the choice."""
    global _kernels
    _kernels = _UNSET
    os.environ[ENV_SWITCH] = (variant or "1") if enabled else "0"
    return kernels()


def _layout(rows, cols, s0, s1):
    """(leading dimension, stored transposed) of a float32 matrix with byte strides (s0, s1):
    row-major with a row stride, or column-major (read as the transpose of a row-major one);
    None for other layouts."""
    if s1 == _FLOAT and s0 % _FLOAT == 0 and (s0 >= _FLOAT * cols or rows == 1):
        return max(s0 // _FLOAT, cols, 1), False
    if s0 == _FLOAT and s1 % _FLOAT == 0 and (s1 >= _FLOAT * rows or cols == 1):
        return max(s1 // _FLOAT, rows, 1), True
    return None


def _matrix(x, transposed):
    """(array kept alive, leading dimension, transposed) of a 2-D float32 view as the kernel
    reads it; other layouts are copied to C order first."""
    layout = _layout(*x.shape, *x.strides)
    if layout is None:
        x = np.ascontiguousarray(x)
        layout = (max(x.shape[1], 1), False)
    return x, layout[0], transposed != layout[1]


def _batch_of_matrices(x, transposed):
    """(array kept alive, leading dimension, transposed, batch stride in floats) of a stack of
    float32 matrices as wk_sgemm_batched reads it; a plain matrix gets batch stride 0."""
    if x.ndim == 2:
        x, ld, transposed = _matrix(x, transposed)
        return x, ld, transposed, 0
    stack = x.reshape((-1,) + x.shape[-2:])  # a view when the batch axes merge, else a copy
    layout = _layout(*stack.shape[1:], *stack.strides[1:])
    if layout is None or stack.strides[0] % _FLOAT or stack.strides[0] < 0:
        stack = np.ascontiguousarray(stack)
        layout = (max(stack.shape[2], 1), False)
    stride = stack.strides[0] // _FLOAT if stack.shape[0] > 1 else 0
    return stack, layout[0], transposed != layout[1], stride


def _floats(*arrays):
    return all(a.dtype == _F32 for a in arrays)


class Kernels(ConvKernels):
    """Python wrappers over one loaded module; each returns None for a case it leaves to NumPy."""

    def __init__(self, lib, path):
        self.lib, self.path = lib, path
        self.variant = None  # set by kernels(): a key of MODULES
        # No argtypes: converting every argument through them cost 10 us a call against 3.4
        # without (16 arguments, Chromium), and Python ints already pass as C ints, addresses
        # included (wasm32). So every argument must be an int (or bool); floats are wrapped.
        for name in VOID_FUNCTIONS:
            getattr(lib, name).restype = None
        self._sgemm, self._batched = lib.wk_sgemm, lib.wk_sgemm_batched
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
        """The backend's matmul for float32 operands of 2 or more dims (batch dims equal, or
        one operand a plain matrix shared by the batch), else None."""
        if a.dtype != _F32 or b.dtype != _F32 or a.ndim < 2 or b.ndim < 2:
            return None
        m, k = a.shape[-2:][::-1] if transpose_a else a.shape[-2:]
        kb, n = b.shape[-2:][::-1] if transpose_b else b.shape[-2:]
        if k != kb:
            return None
        if a.ndim == 2 and b.ndim == 2:
            return self.sgemm(a, b, transpose_a, transpose_b) if m * n * k >= MIN_GEMM_WORK \
                else None
        if b.ndim == 2 and not transpose_a and a.flags.c_contiguous:
            # (..., m, k) @ (k, n): one product over all leading rows.
            if math.prod(a.shape[:-1]) * n * k < MIN_GEMM_WORK:
                return None
            if a.size == 0:
                return np.zeros(a.shape[:-1] + (n,), dtype=np.float32)
            out = self.sgemm(a.reshape(-1, k), b, False, transpose_b)
            return out.reshape(a.shape[:-1] + (n,))
        lead = a.shape[:-2] if a.ndim > 2 else b.shape[:-2]
        if (a.ndim > 2 and a.shape[:-2] != lead) or (b.ndim > 2 and b.shape[:-2] != lead):
            return None
        batch = math.prod(lead)
        if batch * m * n * k < MIN_GEMM_WORK:
            return None
        if batch * m * n * k == 0:
            return np.zeros(lead + (m, n), dtype=np.float32)
        a3, lda, ta, stride_a = _batch_of_matrices(a, transpose_a)
        b3, ldb, tb, stride_b = _batch_of_matrices(b, transpose_b)
        out = np.empty(lead + (m, n), dtype=np.float32)
        self._batched(batch, m, n, k, a3.ctypes.data, lda, ta, stride_a, b3.ctypes.data, ldb,
                      tb, stride_b, out.ctypes.data, max(n, 1), m * n, self._work_ptr)
        return out

    # -- pooling ------------------------------------------------------------------------------
    def _pool_geometry(self, x, pool_size, strides, pads):
        window = window_2d(x.shape[1:-1], pool_size, strides, (1,) * len(pool_size))
        if window is None or x.dtype != _F32:
            return None
        h, w, ph, pw, sy, sx, _, _ = window
        (top, bottom), (left, right) = ((0, 0),) * (2 - len(pads)) + tuple(map(tuple, pads))
        oh = (h + top + bottom - ph) // sy + 1
        ow = (w + left + right - pw) // sx + 1
        if oh <= 0 or ow <= 0:
            return None
        return (x.shape[0], h, w, x.shape[-1], ph, pw, sy, sx, top, left, oh, ow)

    def pool(self, x, mode, pool_size, strides, pads):
        """The backend's pool (max or avg, channels-last, 1-D/2-D, float32)."""
        geometry = self._pool_geometry(x, pool_size, strides, pads)
        if geometry is None or mode not in ("max", "avg"):
            return None
        x = np.ascontiguousarray(x)
        oh, ow = geometry[-2:]
        y = np.empty((x.shape[0],) + out_spatial(x, oh, ow) + (x.shape[-1],), dtype=np.float32)
        self.lib.wk_pool2d(x.ctypes.data, *geometry, mode == "avg", y.ctypes.data)
        return y

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        """The backend's pool_grad for the cases pool takes."""
        geometry = self._pool_geometry(x, pool_size, strides, pads)
        if geometry is None or mode not in ("max", "avg") or not _floats(y, grad):
            return None
        x, y, grad = (np.ascontiguousarray(a) for a in (x, y, grad))
        dx = np.zeros(x.shape, dtype=np.float32)
        self.lib.wk_pool2d_grad(x.ctypes.data, y.ctypes.data, grad.ctypes.data, *geometry,
                                mode == "avg", dx.ctypes.data)
        return dx

    # -- element-wise passes over a layer's output ---------------------------------------------
    def relu(self, x):
        """The backend's relu for a C-contiguous float32 array, else None."""
        if x.dtype != _F32 or x.size < MIN_ELEMENTWISE or not x.flags.c_contiguous:
            return None
        y = np.empty_like(x)
        self.lib.wk_relu(x.ctypes.data, x.size, y.ctypes.data)
        return y

    def add_bias(self, x, bias):
        """x + bias for a C-contiguous float32 `x` and a float32 `bias` that broadcasts along
        x's last axis only (shape (n,), (1, n), ...), else None."""
        if (x.dtype != _F32 or bias.dtype != _F32 or x.size < MIN_ELEMENTWISE or not x.ndim
                or bias.ndim > x.ndim or bias.size != x.shape[-1] or bias.shape[-1:] != x.shape[-1:]
                or not x.flags.c_contiguous):
            return None
        bias = np.ascontiguousarray(bias)
        y = np.empty_like(x)
        self.lib.wk_add_bias(x.ctypes.data, x.size // x.shape[-1], x.shape[-1],
                             bias.ctypes.data, y.ctypes.data)
        return y

    def relu_grad(self, grad, y):
        """grad * (y > 0) for C-contiguous float32 `grad` and ReLU output `y` of one shape
        (a ReLU's gradient from its output, in one pass), else None."""
        if (not _floats(grad, y) or grad.shape != y.shape or grad.size < MIN_ELEMENTWISE
                or not (grad.flags.c_contiguous and y.flags.c_contiguous)):
            return None
        dx = np.empty_like(grad)
        self.lib.wk_relu_grad(grad.ctypes.data, y.ctypes.data, grad.size, dx.ctypes.data)
        return dx

    def sum_leading(self, x, axis, keepdims):
        """The backend's float32 sum over leading axes (0, ..., k-1; k < ndim) of a
        C-contiguous `x`, rows added in NumPy's order (a bias's gradient), else None."""
        axes = (axis,) if isinstance(axis, int) else axis
        if (x.dtype != _F32 or x.size < MIN_ELEMENTWISE or not x.flags.c_contiguous
                or axes is None or not 0 < len(axes) < x.ndim
                or tuple(sorted(a % x.ndim for a in axes)) != tuple(range(len(axes)))):
            return None
        kept = x.shape[len(axes):]
        out = np.empty(kept, dtype=np.float32)
        self.lib.wk_sum_rows(x.ctypes.data, x.size // out.size, out.size, out.ctypes.data)
        return out.reshape((1,) * len(axes) + kept) if keepdims else out

    # -- optimizer updates --------------------------------------------------------------------
    def adam_update(self, var, grad, m, v, learning_rate, beta_1, beta_2, epsilon, step):
        """The backend's adam_update in one pass, in place; True if done, None for NumPy."""
        arrays = (var, grad, m, v)
        if (var.size < MIN_UPDATE_SIZE or not _floats(*arrays)
                or any(a.shape != var.shape or not a.flags.c_contiguous for a in arrays)
                or not all(a.flags.writeable for a in (var, m, v))):
            return None
        # The step size as the NumPy path computes it (float32, as Keras 3).
        alpha = adam_step_size(learning_rate, beta_1, beta_2, step, var.dtype)
        f32 = ctypes.c_float
        self.lib.wk_adam(var.ctypes.data, grad.ctypes.data, m.ctypes.data, v.ctypes.data,
                         var.size, f32(alpha), f32(1 - beta_1), f32(1 - beta_2), f32(epsilon))
        return True


    def sgd_update(self, var, grad, velocity, learning_rate, momentum, nesterov):
        """The backend's sgd_update (no weight decay) in one pass, in place; True if done,
        None for NumPy. `velocity` None: plain SGD."""
        written = (var,) if velocity is None else (var, velocity)
        arrays = written + (grad,)
        if (var.size < MIN_UPDATE_SIZE or not _floats(*arrays)
                or any(a.shape != var.shape or not a.flags.c_contiguous for a in arrays)
                or not all(a.flags.writeable for a in written)):
            return None
        # The rate and momentum rounded to float32 as the NumPy path rounds them.
        f32 = ctypes.c_float
        self.lib.wk_sgd(var.ctypes.data, grad.ctypes.data,
                        0 if velocity is None else velocity.ctypes.data, var.size,
                        f32(np.float32(learning_rate)), f32(np.float32(momentum)),
                        bool(nesterov))
        return True
