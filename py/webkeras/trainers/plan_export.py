"""A traced predict plan as a program the page runs itself (the JS API's page-thread predict).

In the tab, a predict through the worker pays a message each way and the worker thread's
wake-up (~0.3 ms on a loaded machine): more than the MNIST CNN's kernels take at batch 1
(~0.1 ms). When every call of a model's predict plan is one the WASM kernels make (convolution
with its bias and ReLU, pooling, a matrix product, bias addition, ReLU) or is trivial (a
reshape is a view; zero padding and softmax the page computes), `export_predict_plan` writes
it out for web/cpu_replay.js, which instantiates the same side module on the page's thread:

    {"ops": [{"call": "wk_conv_direct", "args": [["buffer", 0], ["batch", 1], ["int", 28], ...]},
             {"softmax": [source buffer, target buffer, row length]},
             {"pad": [source buffer, target buffer, source shape, target shape, offsets]}, ...],
     "buffers": [{"sample": floats per sample} or {"fixed": floats, "weight": index or None}],
     "input": {"buffer": 0, "shape": [28, 28, 1]}, "output": {"buffer": 7, "shape": [10]}}

An argument ["buffer", i] is buffer i's address, ["int", v] an integer and ["batch", v] v times
the batch size. "sample" buffers scale with the batch; a reshape's output shares its input's
buffer. The weights are the variables' values when exported: the caller exports again after
they change. The calls are kernels/wasm/*.c's functions with the arguments
backend/numpy/wasm_kernels.py and wasm_conv.py pass them.
"""

import math

import numpy as np

from webkeras.backend.numpy.wasm_conv import MAX_DIRECT_DEPTH, window_2d
from webkeras.trainers.plan_recording import CONST, SLOT

_F32 = np.dtype(np.float32)


class NotExportable(Exception):
    """The plan has a call (or a shape) the page-thread replay has no kernel for."""


def export_predict_plan(plan, input_shape, lib):
    """The page's program for `plan`, the predict plan of a model with one float32 input of
    `input_shape` (batch first; record it at a batch of 2 or more, so that a reshape that
    keeps the batch axis is told from one that does not), and the weights it reads:
    (program dict, [float32 arrays]).
    `lib`: the loaded WASM kernels' module (`wasm_kernels.kernels().lib`). Raises
    NotExportable naming the first call it cannot take."""
    if plan.host_names:
        raise NotExportable(f"the plan reads per-step host values {plan.host_names}")
    program = _Program(lib, tuple(input_shape))
    for index, (fn, args, kwargs, out) in enumerate(plan.calls):
        name = getattr(fn, "__name__", repr(fn))
        emit = _EMITTERS.get(name)
        if emit is None or type(out) is not int or (kwargs and emit is not _matmul):
            raise NotExportable(f"call {index} (`{name}`) has no page-thread kernel")
        try:
            emit(program, args, kwargs or {}, out)
        except (KeyError, TypeError, ValueError) as error:
            raise NotExportable(f"call {index} (`{name}`): {error}") from None
    specs = plan.output_specs
    if len(specs) != 1 or not specs[0][0] or specs[0][1][0] != SLOT:
        raise NotExportable("the model does not return one tensor")
    buffer, shape = program.slots[specs[0][1][1]]
    return {"ops": program.ops, "buffers": program.buffers,
            "input": {"buffer": 0, "shape": list(input_shape[1:])},
            "output": {"buffer": buffer, "shape": list(shape)}}, program.weights


class _Program:
    """The ops and buffers being written; `slots`: plan slot -> (buffer, per-sample shape)."""

    def __init__(self, lib, input_shape):
        self.lib = lib
        self.batch = input_shape[0]
        self.ops, self.buffers, self.weights = [], [], []
        self.slots = {0: (self._buffer(sample=math.prod(input_shape[1:])), input_shape[1:])}
        self._weight_buffers = {}  # id(array) -> buffer
        self._workspace = None

    def _buffer(self, **size):
        self.buffers.append(size)
        return len(self.buffers) - 1

    def output(self, out, shape):
        """A new per-sample buffer for plan slot `out`, as a call argument."""
        self.slots[out] = (self._buffer(sample=math.prod(shape)), tuple(shape))
        return ["buffer", self.slots[out][0]]

    def input(self, spec):
        """(argument, per-sample shape) of a slot the plan computed."""
        kind, slot = spec
        if kind != SLOT:
            raise ValueError("expected an array computed in the step")
        buffer, shape = self.slots[slot]
        return ["buffer", buffer], shape

    def weight(self, spec, ndim=None):
        """(argument, array) of a float32 constant (a variable's storage)."""
        kind, array = spec
        if kind != CONST or not isinstance(array, np.ndarray) or array.dtype != _F32 \
                or (ndim is not None and array.ndim != ndim):
            raise ValueError(f"expected a float32 weight{f' of rank {ndim}' if ndim else ''}")
        buffer = self._weight_buffers.get(id(array))
        if buffer is None:
            buffer = self._buffer(fixed=array.size, weight=len(self.weights))
            self.weights.append(np.ascontiguousarray(array))
            self._weight_buffers[id(array)] = buffer
        return ["buffer", buffer], array

    def scratch(self, floats):
        return ["buffer", self._buffer(fixed=int(floats), weight=None)]

    def workspace(self):
        """The GEMM's packing workspace (one for every product)."""
        if self._workspace is None:
            self._workspace = self.scratch(self.lib.wk_sgemm_workspace())
        return self._workspace

    def call(self, name, *args):
        self.ops.append({"call": name, "args": [a if isinstance(a, list) else ["int", int(a)]
                                                for a in args]})


def _constant(spec):
    kind, value = spec
    if kind != CONST:
        raise ValueError("expected a constant argument")
    return value


def _conv(program, args, kwargs, out, bias=None, relu=False):
    """wk_conv_direct, as wasm_conv's _conv_direct calls it (bias and ReLU when fused)."""
    x, sample = program.input(args[0])
    kernel, weights = program.weight(args[1])
    strides, dilation, groups = (_constant(a) for a in args[2:5])
    window = window_2d(sample[:-1], weights.shape[:-2], strides, dilation)
    if window is None or len(sample) != weights.ndim - 1:
        raise ValueError("expected a 1-D or 2-D convolution")
    if (groups > 1 and weights.shape[-2] == 1) or \
            (groups == 1 and math.prod(weights.shape[:-1]) > MAX_DIRECT_DEPTH):
        raise ValueError("the kernels run this convolution other than as an implicit GEMM")
    h, w, kh, kw, sy, sx, dy, dx = window
    oh, ow = (h - (kh - 1) * dy - 1) // sy + 1, (w - (kw - 1) * dx - 1) // sx + 1
    filters, channels = weights.shape[-1], sample[-1]
    if oh <= 0 or ow <= 0 or channels != weights.shape[-2] * groups:
        raise ValueError(f"input {list(sample)} does not fit kernel {list(weights.shape)}")
    packed = program.lib.wk_conv_direct_packed_size(kh * kw, channels, filters, groups)
    bias_arg = 0
    if bias is not None:
        bias_arg, bias_values = program.weight(bias, 1)
        if bias_values.size != filters:
            raise ValueError(f"a bias of {bias_values.size} values for {filters} filters")
    y = program.output(out, ((oh,) if len(sample) == 3 else ()) + (ow, filters))
    program.call("wk_conv_direct", x, ["batch", 1], h, w, channels, kh, kw, sy, sx, dy, dx, oh,
                 ow, kernel, filters, groups, bias_arg, relu, program.scratch(packed), y)


def _conv_bias_relu(program, args, kwargs, out):
    _conv(program, args[:5], kwargs, out, bias=args[5], relu=bool(_constant(args[6])))


def _binary(program, args, kwargs, out):
    if _constant(args[0]) != "add":
        raise ValueError("only a bias addition has a kernel")
    x, sample = program.input(args[1])
    bias, weights = program.weight(args[2])
    cols = sample[-1] if sample else 0
    if not weights.ndim or weights.size != cols or weights.shape[-1] != cols:
        raise ValueError(f"{list(weights.shape)} is not a bias along the last axis of "
                         f"{list(sample)}")
    y = program.output(out, sample)
    program.call("wk_add_bias", x, ["batch", math.prod(sample[:-1])], cols, bias, y)


def _unary(program, args, kwargs, out):
    if _constant(args[0]) != "relu":
        raise ValueError(f"the activation `{_constant(args[0])}` has no kernel")
    x, sample = program.input(args[1])
    program.call("wk_relu", x, ["batch", math.prod(sample)], program.output(out, sample))


def _pool(program, args, kwargs, out):
    """wk_pool2d, as wasm_kernels' pool calls it."""
    x, sample = program.input(args[0])
    mode, pool_size, strides, pads = (_constant(a) for a in args[1:5])
    window = window_2d(sample[:-1], pool_size, strides, (1,) * len(pool_size))
    if mode not in ("max", "avg") or window is None:
        raise ValueError(f"expected 1-D or 2-D max or average pooling, received {mode}")
    h, w, ph, pw, sy, sx, _, _ = window
    (top, bottom), (left, right) = ((0, 0),) * (2 - len(pads)) + tuple(map(tuple, pads))
    oh, ow = (h + top + bottom - ph) // sy + 1, (w + left + right - pw) // sx + 1
    y = program.output(out, ((oh,) if len(sample) == 3 else ()) + (ow, sample[-1]))
    program.call("wk_pool2d", x, ["batch", 1], h, w, sample[-1], ph, pw, sy, sx, top, left, oh,
                 ow, mode == "avg", y)


def _reshape(program, args, kwargs, out):
    """A view: the output shares the input's buffer."""
    (_, buffer), sample = program.input(args[0])
    shape = list(_constant(args[1]))
    if not shape or shape[0] not in (program.batch, -1) or (shape[0] == -1 and -1 in shape[1:]):
        raise ValueError(f"a reshape to {shape} moves the batch axis")
    target = shape[1:]
    if -1 in target:
        known = math.prod(d for d in target if d != -1)
        target[target.index(-1)] = math.prod(sample) // max(known, 1)
    if math.prod(target) != math.prod(sample):
        raise ValueError(f"cannot reshape {list(sample)} to {target} per sample")
    program.slots[out] = (buffer, tuple(target))


def _matmul(program, args, kwargs, out):
    """wk_sgemm of (batch * rows, k) @ a weight, as wasm_kernels' sgemm calls it."""
    flags = dict(zip(("transpose_a", "transpose_b"), (_constant(a) for a in args[2:4])))
    flags.update({key: _constant(spec) for key, spec in kwargs.items()})
    if flags.get("transpose_a"):
        raise ValueError("expected the input untransposed")
    transposed = bool(flags.get("transpose_b"))
    a, sample = program.input(args[0])
    b, weights = program.weight(args[1], 2)
    k, n = weights.shape[::-1] if transposed else weights.shape
    if not sample or sample[-1] != k:
        raise ValueError(f"{list(sample)} @ {list(weights.shape)}: inner sizes differ")
    y = program.output(out, tuple(sample[:-1]) + (n,))
    program.call("wk_sgemm", ["batch", math.prod(sample[:-1])], n, k, a, k, False, b,
                 weights.shape[1], transposed, y, n, False, program.workspace())


def _slice_scatter(program, args, kwargs, out):
    """Zero padding (a convolution's padding="same"): the input written into zeros at
    per-sample offsets, the batch axis whole."""
    (_, source), sample = program.input(args[0])
    shape, slices = _constant(args[1]), _constant(args[2])
    if len(shape) != len(sample) + 1 or shape[0] != program.batch or len(slices) != len(shape):
        raise ValueError("expected the whole batch written into a larger array")
    target, offsets = list(shape[1:]), []
    for key, size, dim in zip(slices[1:], sample, target):
        start, stop, step = key.indices(dim) if isinstance(key, slice) else (None,) * 3
        if step != 1 or stop - start != size:
            raise ValueError(f"the slice {key!r} is not a block of the input's size {size}")
        offsets.append(start)
    if not isinstance(slices[0], slice) or slices[0].indices(shape[0]) != (0, shape[0], 1):
        raise ValueError("expected the whole batch axis")
    buffer = program.output(out, target)[1]
    program.ops.append({"pad": [source, buffer, list(sample), target, offsets]})


def _softmax(program, args, kwargs, out):
    (_, source), sample = program.input(args[0])
    target = program.output(out, sample)[1]
    program.ops.append({"softmax": [source, target, sample[-1]]})


_EMITTERS = {"conv": _conv, "conv_bias_relu": _conv_bias_relu, "binary": _binary,
             "unary": _unary, "pool": _pool, "reshape": _reshape, "matmul": _matmul,
             "softmax": _softmax, "slice_scatter": _slice_scatter}
