"""The WebGPU backend: every primitive of `Backend` as a WGSL kernel on a `Driver`.

Tensors stay on the device; only `to_numpy` reads back. Each op renders (cached) a kernel from
`webkeras.kernels`, packs its shapes/scalars into a (cached) uniform and queues one dispatch;
the driver submits the queue at the next readback or `flush()`.

    backend = WebGPUBackend()
    x = backend.from_numpy(np.ones((2, 3), "float32"))
    backend.to_numpy(backend.unary("exp", x))
"""

import functools
import math
import sys

import numpy as np

from webkeras.backend import recurrence
from webkeras.backend.base import COMPARISON_OPS, Backend
from webkeras.backend.webgpu import layout
from webkeras.backend.webgpu.array import (
    HOST_DTYPES,
    ITEMSIZE,
    BufferPool,
    GPUArray,
    UniformCache,
    device_dtype,
)
from webkeras.backend.webgpu.commands import DeviceCommands, capturing
from webkeras.backend.webgpu.conv import WindowKernels
from webkeras.backend.webgpu.elementwise_chains import ElementwiseChains
from webkeras.backend.webgpu.gather_ops import GatherKernels
from webkeras.backend.webgpu.host_fallback import HostPath
from webkeras.backend.webgpu.kernel_source import LOOP_LIMIT, kernels
from webkeras.backend.webgpu.math_ops import MATH_UNARY, MathKernels
from webkeras.backend.webgpu.recurrence_kernels import RecurrenceKernels, RecurrenceResiduals
from webkeras.backend.webgpu.optimizer_updates import OptimizerUpdates


def default_driver():
    if sys.platform == "emscripten":
        from webkeras.backend.webgpu.browser_driver import BrowserDriver

        return BrowserDriver()
    from webkeras.backend.webgpu.wgpu_driver import WgpuDriver

    return WgpuDriver()


def _host_array(x, data):
    """The ndarray of GPUArray `x` from its read-back bytes."""
    host = np.frombuffer(bytearray(data), dtype=HOST_DTYPES[x.dtype]).reshape(x.shape)
    return host.astype(bool) if x.dtype == "bool" else host


@functools.lru_cache(maxsize=4096)
def _plan_reads(out_shape, strides):
    """(collapsed shape, [(read mode, numbers)] per input); cached: the same few shapes
    recur every train step, and planning them is most of an op's host cost."""
    shape, collapsed = layout.collapse(out_shape, list(strides))
    if len(shape) > kernels.MAX_RANK:
        raise ValueError(f"Element-wise kernels take up to {kernels.MAX_RANK} dims, got "
                         f"shape {out_shape}.")
    return shape, tuple(layout.read_mode(shape, s) for s in collapsed)


class DeviceLimits:
    """The adapter limits the kernels depend on, read once (STYLE.md item 10)."""

    def __init__(self, limits, adapter_info=""):
        invocations = limits.get("maxComputeInvocationsPerWorkgroup", 256)
        size_x = limits.get("maxComputeWorkgroupSizeX", 256)
        self.groups_per_dim = limits.get("maxComputeWorkgroupsPerDimension", 65535)
        self.max_binding = limits.get("maxStorageBufferBindingSize", 128 << 20)
        #: 1-D kernels (element-wise, reductions, softmax): a power of two ≤ 256.
        self.workgroup = 1 << int(math.log2(max(1, min(256, invocations, size_x))))
        # Matmul: 16x16 threads (64x64 tiles) where 256 invocations fit, else 8x8.
        self.matmul_threads = 16 if invocations >= 256 and size_x >= 16 else 8
        self.matmul_tk = 16
        # Software adapters (lavapipe, SwiftShader) run workgroup barriers as coroutine switches:
        # there a thread per output beats a workgroup-per-output tree by 5-500x (measured).
        info = adapter_info.lower()
        cpu = any(word in info for word in ("llvmpipe", "swiftshader", "(cpu)"))
        # ...and matmuls without tiles in workgroup memory (kernels/matmul_direct.wgsl).
        self.matmul_tiles = not cpu
        if cpu:
            self.matmul_threads = 8
        self.row_reductions = not cpu
        # ...and convolutions / pooling run faster on the host's BLAS (see webgpu/conv.py).
        self.windows_on_host = cpu

    def reduce_layout(self, outputs, reduced, inner):
        """"rows" (workgroup per output) for few long reductions on real GPUs, else "cols"."""
        if self.row_reductions and reduced >= 256 and (inner == 1 or outputs < 64):
            return "rows"
        # llvmpipe ends any loop after 65535 iterations (measured): one thread must not walk
        # that many; a workgroup per output splits the axis over its threads.
        return "rows" if reduced > LOOP_LIMIT else "cols"


class WebGPUBackend(OptimizerUpdates, Backend):
    """The primitives on a driver's device: element-wise, reductions, matmul, softmax, the
    optimizer updates here; the others in the kernel families it holds (windows: convolution
    and pooling; gathers: slicing, joining, take, scatter_add, erf; math: rounding, trig, ...)
    and on its host path where the host is the better place (see `HostPath`)."""

    name = "webgpu"

    def __init__(self, driver=None):
        self.driver = driver if driver is not None else default_driver()
        self.limits = DeviceLimits(self.driver.limits, self.driver.adapter_info)
        self.buffers = BufferPool(self.driver)
        self.uniforms = UniformCache(self.driver)
        self.commands = DeviceCommands(self.driver, self.uniforms)
        self._pipelines = {}
        self.host = HostPath(self)
        self.windows = WindowKernels(self)
        self.gathers = GatherKernels(self, self.host)
        self.math = MathKernels(self)
        self.recurrences = RecurrenceKernels(self)
        self.chains = ElementwiseChains(self)

    # -- plumbing ----------------------------------------------------------------------------
    def empty(self, shape, dtype):
        shape = tuple(int(d) for d in shape)
        nbytes = math.prod(shape) * ITEMSIZE
        if nbytes > self.limits.max_binding:
            raise ValueError(
                f"A {dtype} array of shape {shape} needs {nbytes} bytes, more than this "
                f"adapter's storage binding limit ({self.limits.max_binding} bytes). "
                "Use smaller batches or the NumPy backend."
            )
        return GPUArray(self.buffers.acquire(nbytes), shape, dtype)

    def run_kernel(self, family, spec, values, arrays, groups):
        self.run_program(kernels.program(family, **spec), values, arrays, groups)

    def run_program(self, program, values, arrays, groups):
        """Queue one dispatch of a rendered `Program` (its pipeline cached by source)."""
        pipeline = self._pipelines.get(program.source)
        if pipeline is None:
            # Requested, not awaited: a first step's compiles overlap (Driver.request_pipeline).
            pipeline = self._pipelines[program.source] = self.driver.request_pipeline(
                program.source
            )
        self.commands.dispatch(pipeline, program.pack(**values), arrays, groups)

    def capture(self, forward=True):
        """Context manager: the commands queued meanwhile, noted (see `CommandCapture`)."""
        return capturing(self, forward)

    def grid(self, groups):
        return layout.grid(groups, self.limits.groups_per_dim)

    def map_kernel(self, body, out_dtype, inputs, out_shape, x0=0, x1=0, scalar="f32", helpers=""):
        """out = body(a, b, c) element-wise, each input broadcast (or strided) to out_shape.

        `inputs` are (GPUArray, strides) pairs: strides in elements per out_shape dim.
        """
        out = self.empty(out_shape, out_dtype)
        n = out.size
        if n == 0:
            return out
        shape, reads = _plan_reads(tuple(out_shape), tuple(tuple(s) for _, s in inputs))
        modes = tuple(mode for mode, _ in reads)
        types = tuple(kernels.WGSL_TYPES[a.dtype] for a, _ in inputs)
        spec = dict(body=body, out=kernels.WGSL_TYPES[out_dtype], inputs=types, modes=modes,
                    scalar=scalar, helpers=helpers, workgroup=self.limits.workgroup)
        values = dict(n=n, rank=len(shape), x0=x0, x1=x1, shape=shape)
        values.update({f"s{k}": numbers for k, (_, numbers) in enumerate(reads)})
        groups = self.grid(-(-n // self.limits.workgroup))
        self.run_kernel("elementwise", spec, values, [a for a, _ in inputs] + [out], groups)
        return out

    def _broadcast_inputs(self, *arrays):
        out_shape = layout.broadcast_shapes(*(a.shape for a in arrays))
        return [(a, layout.broadcast_strides(a.shape, out_shape)) for a in arrays], out_shape

    # -- conversion --------------------------------------------------------------------------
    def from_numpy(self, array):
        array = np.asarray(array)
        dtype = device_dtype(array.dtype)
        host = np.asarray(array, dtype=HOST_DTYPES[dtype], order="C")  # keeps 0-d shapes
        if host.size == 1:
            # A fill kernel is queued like any op; a write would flush the queue first.
            out = self.full(host.shape, host.reshape(-1)[0].item(), dtype)
        else:
            out = self.empty(host.shape, dtype)
            if host.size:
                self.commands.write(out, host)
        if dtype == "int32" and host.size:
            out.buffer.known_range = (int(host.min()), int(host.max()))
        return out

    def to_numpy(self, x):
        return _host_array(x, self.commands.read(x, x.size * ITEMSIZE))

    def to_numpy_many(self, xs):
        datas = self.commands.read_many([(x, x.size * ITEMSIZE) for x in xs])
        return [_host_array(x, data) for x, data in zip(xs, datas)]

    def shape(self, x):
        return x.shape

    def dtype(self, x):
        return x.dtype

    def full(self, shape, value, dtype):
        wgsl = kernels.WGSL_TYPES[dtype]
        value = {"f32": float, "i32": int, "u32": lambda v: int(bool(v))}[wgsl](value)
        return self.map_kernel("params.x0", dtype, [], shape, x0=value, scalar=wgsl)

    # -- element-wise ------------------------------------------------------------------------
    def unary(self, op, x):
        if op in MATH_UNARY:
            return self.math.unary(op, x)
        body, helpers = kernels.unary_body(op, x.dtype)
        return self.map_kernel(body, x.dtype, [(x, layout.contiguous_strides(x.shape))], x.shape,
                               helpers=helpers)

    def binary(self, op, a, b):
        inputs, shape = self._broadcast_inputs(a, b)
        out_dtype = "bool" if op in COMPARISON_OPS else a.dtype
        return self.map_kernel(kernels.binary_body(op, a.dtype), out_dtype, inputs, shape)

    def where(self, condition, a, b):
        inputs, shape = self._broadcast_inputs(a, b, condition)
        return self.map_kernel("select(b, a, c != 0u)", a.dtype, inputs, shape)

    def clip(self, x, low, high):
        wgsl = kernels.WGSL_TYPES[x.dtype]
        if isinstance(low, GPUArray) or isinstance(high, GPUArray):
            low, high = (v if isinstance(v, GPUArray) else self.full((), v, x.dtype)
                         for v in (low, high))
            inputs, shape = self._broadcast_inputs(x, low, high)
            return self.map_kernel("min(max(a, b), c)", x.dtype, inputs, shape)
        big = 3.4e38 if wgsl == "f32" else 2**31 - 1
        low = -big if low is None else low
        high = big if high is None else high
        cast = float if wgsl == "f32" else int
        return self.map_kernel("min(max(a, params.x0), params.x1)", x.dtype,
                               [(x, layout.contiguous_strides(x.shape))], x.shape,
                               x0=cast(low), x1=cast(high), scalar=wgsl)

    def cast(self, x, dtype):
        dtype = device_dtype(np.dtype(dtype))
        body = "a" if dtype == x.dtype else kernels.cast_body(x.dtype, dtype)
        return self.map_kernel(body, dtype, [(x, layout.contiguous_strides(x.shape))], x.shape)

    # -- reductions --------------------------------------------------------------------------
    def _reduce(self, op, x, axes, out_dtype):
        perm, outer, reduced, inner = layout.reduce_view(x.shape, axes)
        if perm is not None:
            x = self.transpose(x, perm)
        outputs = outer * inner
        out = self.empty((outputs,), out_dtype)
        if outputs == 0:
            return out
        if reduced == 0:
            raise ValueError(f"Cannot {op} over an empty axis of shape {x.shape}.")
        kind = self.limits.reduce_layout(outputs, reduced, inner)
        rows = kind == "rows"
        wg = self.limits.workgroup
        spec = dict(op=op, dtype=x.dtype, layout=kind, workgroup=wg)
        groups = self.grid(outputs if rows else -(-outputs // wg))
        values = dict(outputs=outputs, reduced=reduced, inner=inner)
        self.run_kernel("reduce", spec, values, [x, out], groups)
        return out

    def reduce(self, op, x, axis, keepdims):
        axis = tuple(range(x.ndim)) if axis is None else tuple(sorted(axis))
        out = self._reduce(op, x, axis, x.dtype)
        kept = [1 if d in axis else n for d, n in enumerate(x.shape)]
        shape = kept if keepdims else [n for d, n in enumerate(x.shape) if d not in axis]
        return self.reshape(out, tuple(shape))

    def argmax(self, x, axis):
        out = self._reduce("argmax", x, (axis,), "int32")
        return self.reshape(out, x.shape[:axis] + x.shape[axis + 1:])

    # -- linear algebra / shape --------------------------------------------------------------
    def matmul(self, a, b, transpose_a=False, transpose_b=False):
        if a.dtype != "float32" or b.dtype != "float32":
            a, b = self.cast(a, "float32"), self.cast(b, "float32")
        m, k = a.shape[-2:][::-1] if transpose_a else a.shape[-2:]
        k2, n = b.shape[-2:][::-1] if transpose_b else b.shape[-2:]
        if k != k2:
            raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                             f"(transpose_a={transpose_a}, transpose_b={transpose_b}).")
        batch = layout.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        flags = (transpose_a, transpose_b)
        if all(d == 1 for d in b.shape[:-2]) and a.ndim > 2 and not transpose_a:
            # [..., m, k] @ [k, n] is one [(...) * m, k] @ [k, n] product.
            rows = a.size // k
            out = self._matmul(self.reshape(a, (rows, k)), b, (), (), (), (rows, k, n), flags)
            return self.reshape(out, batch + (m, n))
        a_strides = layout.broadcast_strides(a.shape[:-2], batch)
        b_strides = layout.broadcast_strides(b.shape[:-2], batch)
        shape, (a_strides, b_strides) = layout.collapse(batch, [a_strides, b_strides])
        count = math.prod(batch)
        if count > self.limits.groups_per_dim:
            raise ValueError(f"matmul: batch of {count} exceeds the adapter's "
                             f"{self.limits.groups_per_dim} workgroups per dimension.")
        out = self._matmul(a, b, shape, tuple(s * m * k for s in a_strides),
                           tuple(s * k * n for s in b_strides), (m, k, n), flags, count)
        return self.reshape(out, batch + (m, n))

    def _matmul(self, a, b, batch_shape, a_strides, b_strides, mkn, flags, count=1):
        m, k, n = mkn
        out = self.empty((count, m, n), "float32")
        if out.size == 0:
            return out
        if k == 0:
            return self.full((count, m, n), 0.0, "float32")
        threads, tk = self.limits.matmul_threads, self.limits.matmul_tk
        tiles = self.limits.matmul_tiles
        # The block of C one thread computes.
        rows, cols = (4, 4) if tiles else (kernels.MATMUL_DIRECT_ROWS, kernels.MATMUL_DIRECT_COLS)
        # Narrow outputs (a convolution's filters, a classifier's classes) get narrower tiles,
        # so no thread computes padding: 2-3x faster on conv shapes like 3872x144 @ 144x32.
        wx = threads
        while wx > 4 and cols * (wx // 2) >= n:
            wx //= 2
        values = dict(m=m, n=n, k=k, batch_rank=len(batch_shape), batch_shape=batch_shape,
                      a_strides=a_strides, b_strides=b_strides)
        groups = (-(-n // (cols * wx)), -(-m // (rows * threads)), count)
        spec = dict(wx=wx, wy=threads, transpose_a=flags[0], transpose_b=flags[1], tiles=tiles,
                    tk=tk if tiles else None)
        self.run_kernel("matmul", spec, values, [a, b, out], groups)
        return out

    def reshape(self, x, shape):
        shape = list(shape)
        if -1 in shape:
            known = math.prod(d for d in shape if d != -1)
            shape[shape.index(-1)] = x.size // known if known else 0
        if math.prod(shape) != x.size:
            raise ValueError(f"Cannot reshape an array of shape {x.shape} into {tuple(shape)}.")
        return GPUArray(x.buffer, shape, x.dtype)

    def transpose(self, x, perm):
        own = layout.contiguous_strides(x.shape)
        shape = tuple(x.shape[p] for p in perm)
        return self.map_kernel("a", x.dtype, [(x, tuple(own[p] for p in perm))], shape)

    def broadcast_to(self, x, shape):
        shape = tuple(shape)
        return self.map_kernel("a", x.dtype, [(x, layout.broadcast_strides(x.shape, shape))], shape)

    # -- fused -------------------------------------------------------------------------------
    def elementwise_chain(self, chain, arrays):
        """A chain of element-wise primitives as one dispatch (what a traced plan fuses:
        see `ElementwiseChains`)."""
        return self.chains.run(chain, arrays)

    def _softmax(self, x, log):
        out = self.empty(x.shape, "float32")
        cols = x.shape[-1] if x.ndim else 1
        rows = x.size // cols if cols else 0
        if x.size:
            wg = self.limits.workgroup
            kind = self.limits.reduce_layout(rows, cols, 1)
            groups = self.grid(rows if kind == "rows" else -(-rows // wg))
            kind = "thread" if kind == "cols" else "rows"
            self.run_kernel("softmax", dict(log=log, layout=kind, workgroup=wg),
                            dict(rows=rows, cols=cols), [x, out], groups)
        return out

    def softmax(self, x):
        return self._softmax(x, log=False)

    def log_softmax(self, x):
        return self._softmax(x, log=True)

    def one_hot(self, indices, depth, dtype):
        out = self.empty(indices.shape + (depth,), dtype)
        n = out.size
        if n:
            wg = self.limits.workgroup
            self.run_kernel("one_hot", dict(dtype=dtype, workgroup=wg), dict(n=n, depth=depth),
                            [indices, out], self.grid(-(-n // wg)))
        return out

    # -- variables and optimizer updates (in place) ------------------------------------------
    def assign(self, target, value):
        target.buffer.known_range = None
        if value.dtype != target.dtype:
            value = self.cast(value, target.dtype)
        if value.shape != target.shape:
            value = self.broadcast_to(value, target.shape)
        if target.size:
            self.commands.copy(value, target, target.size * ITEMSIZE)

    # -- synchronisation ---------------------------------------------------------------------
    # -- the kernel families and the host path -------------------------------------------------
    def _window_path(self):
        # Software adapters: the host's BLAS beats the emulated GPU (see webgpu/conv.py).
        return self.host if self.limits.windows_on_host else self.windows

    def conv(self, x, kernel, strides, dilation, groups):
        return self._window_path().conv(x, kernel, strides, dilation, groups)

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        return self._window_path().conv_input_grad(grad, kernel, input_shape, strides,
                                                   dilation, groups)

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        return self._window_path().conv_kernel_grad(x, grad, kernel_shape, strides, dilation,
                                                    groups)

    def pool(self, x, mode, pool_size, strides, pads):
        return self._window_path().pool(x, mode, pool_size, strides, pads)

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        return self._window_path().pool_grad(x, y, grad, mode, pool_size, strides, pads)

    def strided_slice(self, x, slices):
        return self.gathers.strided_slice(x, slices)

    def slice_scatter(self, values, shape, slices):
        return self.gathers.slice_scatter(values, shape, slices)

    def concatenate(self, arrays, axis):
        return self.gathers.concatenate(arrays, axis)

    def take(self, x, indices, axis):
        return self.gathers.take(x, indices, axis)

    def scatter_add(self, indices, updates, shape, axis):
        return self.gathers.scatter_add(indices, updates, shape, axis)

    def erf(self, x):
        return self.gathers.erf(x)

    def isnan(self, x):
        return self.math.isnan(x)

    def isinf(self, x):
        return self.math.isinf(x)

    def argsort(self, x, axis, descending):
        # No sort kernel yet: sorting is rare in a train step.
        return self.host.argsort(x, axis, descending)

    def rnn_scan(self, cell, inputs, states, recurrent_kernel, recurrent_bias, mask,
                 recurrent_dropout, go_backwards, zero_output_for_mask):
        args = (cell, inputs, states, recurrent_kernel, recurrent_bias, mask, recurrent_dropout,
                go_backwards, zero_output_for_mask)
        if self.recurrences.covers(cell, inputs, states, recurrent_kernel, mask,
                                   recurrent_dropout):
            return self.recurrences.scan(*args)
        # The rest (gru_reset_before, shapes past the kernels' limits): composed of this
        # backend's kernels, a few dispatches a step, still on the device.
        return recurrence.rnn_scan(recurrence.Arrays(self), *args)

    def rnn_scan_grad(self, residuals, grad, needs):
        if isinstance(residuals, RecurrenceResiduals):
            return self.recurrences.scan_grad(residuals, grad, needs)
        return recurrence.rnn_scan_grad(recurrence.Arrays(self), residuals, grad, needs)

    def flush(self):
        self.driver.flush()
