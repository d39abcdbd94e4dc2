"""Fusion of a replay plan's calls: a convolution, the bias added to its output and a ReLU
over that (what a Conv2D layer with a bias and activation="relu" records) become one call when
the backend's kernels take them together, so the output is written once instead of three times.

The NumPy backend under Pyodide has that kernel (`simd.conv_bias_relu`: the bias and ReLU in
the implicit GEMM's epilogue); elsewhere the plan keeps its calls. A fused call runs the three
calls after all for a case the kernel does not take, so its results match the unfused plan's
(up to where the bias enters the float32 sums).

Likewise a ReLU's gradient, `g * cast(y > 0, "float32")` (three calls, two passes through
temporaries), becomes one pass (`simd.relu_grad`) with the same bits.
"""

import numpy as np

from webkeras.backend.base import MATH_UNARY_OPS
from webkeras.trainers.plan_recording import CONST, SEQ, SLOT


def fuse_conv_epilogues(calls, backend, output_specs):
    """`calls`: a Plan's [(fn, args, kwargs, out)]; the same list with each conv + bias (+
    ReLU) whose intermediate results nothing else reads replaced by one call."""
    kernels = getattr(backend, "simd", None)
    if kernels is None or not hasattr(kernels, "conv_bias_relu"):
        return calls
    reads = _read_counts(calls, output_specs)
    fused, i = [], 0
    while i < len(calls):
        taken = _epilogue(calls, i, reads)
        if taken is None:
            fused.append(calls[i])
            i += 1
            continue
        bias, relu, out = taken
        fused.append((_fused_call(backend, kernels), calls[i][1] + [bias, (CONST, relu)], None,
                      out))
        i += 3 if relu else 2
    return fused


def fuse_relu_gradients(calls, backend, output_specs):
    """`calls`: a Plan's [(fn, args, kwargs, out)]; the same list with each greater(y, 0) ->
    cast to float32 -> multiply by g whose mask nothing else reads replaced by one call."""
    kernels = getattr(backend, "simd", None)
    if kernels is None or not hasattr(kernels, "relu_grad"):
        return calls
    reads = _read_counts(calls, output_specs)
    fused, i = [], 0
    while i < len(calls):
        taken = _relu_gradient(calls, i, reads)
        if taken is None:
            fused.append(calls[i])
            i += 1
            continue
        y, zero, grad, out = taken
        fused.append((_fused_relu_grad(backend, kernels), [grad, y, zero], None, out))
        i += 3
    return fused


def _relu_gradient(calls, i, reads):
    """(y spec, zero spec, g spec, the product's out) when calls[i:i + 3] are greater(y, 0),
    a cast of that mask to float32 and g * mask (either order), each temporary read once."""
    if i + 2 >= len(calls):
        return None
    (fn, args, kwargs, mask), (cast_fn, cast_args, cast_kwargs, as_float), \
        (mul_fn, mul_args, mul_kwargs, out) = calls[i:i + 3]
    if _name(fn) != "binary" or kwargs or len(args) != 3 or args[0] != (CONST, "greater") \
            or args[1][0] != SLOT or not _is_zero(args[2]) or type(mask) is not int \
            or reads.get(mask) != 1:
        return None
    if _name(cast_fn) != "cast" or cast_kwargs or cast_args != [(SLOT, mask), (CONST, "float32")] \
            or type(as_float) is not int or reads.get(as_float) != 1:
        return None
    if _name(mul_fn) != "binary" or mul_kwargs or len(mul_args) != 3 \
            or mul_args[0] != (CONST, "mul") or type(out) is not int:
        return None
    factors = mul_args[1:]
    if (SLOT, as_float) not in factors:
        return None
    grad = factors[1] if factors[0] == (SLOT, as_float) else factors[0]
    return args[1], args[2], grad, out


def _is_zero(spec):
    kind, value = spec
    return kind == CONST and np.ndim(value) == 0 and not isinstance(value, str) \
        and value == 0


def _fused_relu_grad(backend, kernels):
    def relu_grad(grad, y, zero):
        dx = kernels.relu_grad(grad, y)
        if dx is None:  # a case the kernel leaves to the three calls
            mask = backend.cast(backend.binary("greater", y, zero), "float32")
            dx = backend.binary("mul", grad, mask)
        return dx

    return relu_grad


def _epilogue(calls, i, reads):
    """(bias spec, relu, the last call's out) when calls[i] is a conv whose output only a
    bias addition reads (and that sum only a ReLU, if one follows), else None."""
    fn, args, kwargs, out = calls[i]
    if _name(fn) != "conv" or kwargs or len(args) != 5 or type(out) is not int \
            or i + 1 >= len(calls) or reads.get(out) != 1:
        return None
    fn, args, kwargs, added = calls[i + 1]
    if _name(fn) != "binary" or kwargs or args[:2] != [(CONST, "add"), (SLOT, out)] \
            or args[2][0] not in (CONST, SLOT) or type(added) is not int:
        return None
    bias = args[2]
    if i + 2 < len(calls) and reads.get(added) == 1:
        fn, args, kwargs, activated = calls[i + 2]
        if _name(fn) == "unary" and not kwargs and args == [(CONST, "relu"), (SLOT, added)] \
                and type(activated) is int:
            return bias, True, activated
    return bias, False, added


def _fused_call(backend, kernels):
    def conv_bias_relu(x, kernel, strides, dilation, groups, bias, relu):
        y = kernels.conv_bias_relu(x, kernel, strides, dilation, groups, bias, relu)
        if y is None:  # a case the kernel leaves to the three calls
            y = backend.binary("add", backend.conv(x, kernel, strides, dilation, groups), bias)
            y = backend.unary("relu", y) if relu else y
        return y

    return conv_bias_relu


def _name(fn):
    return getattr(fn, "__name__", None)


def _read_counts(calls, output_specs):
    """{slot: how many arguments and returned values read it}."""
    counts = {}

    def count(spec):
        kind, payload = spec
        if kind == SLOT:
            counts[payload] = counts.get(payload, 0) + 1
        elif kind == SEQ:
            for item in payload[1]:
                count(item)

    for _, args, kwargs, _ in calls:
        for spec in list(args) + list((kwargs or {}).values()):
            count(spec)
    for _, spec in output_specs:
        count(spec)
    return counts


# The element-wise primitives a chain may hold (each a step kind of
# backend/webgpu/elementwise_chains.py).
_CHAIN_STEPS = ("unary", "binary", "cast", "where", "clip")


def fuse_elementwise_chains(calls, backend, output_specs):
    """`calls`: a Plan's [(fn, args, kwargs, out)]; the same list with each tree of adjacent
    element-wise calls (bias + activation, an activation's gradient times the incoming
    gradient, ...) whose intermediate results only the next call of the tree reads replaced
    by one `backend.elementwise_chain` call, where the backend has it (WebGPU)."""
    if not hasattr(backend, "elementwise_chain"):
        return calls
    reads = _read_counts(calls, output_specs)
    steps = [_chain_step(call, backend) for call in calls]
    producers = {out: i for i, (_, _, _, out) in enumerate(calls) if type(out) is int}
    # Calls between two non-element-wise calls form a run: nothing writes a variable inside
    # one, so a call may move to a later position of its run.
    runs, run = [], 0
    for step in steps:
        run += step is None
        runs.append(run)
    absorbed, members = {}, {}
    for i, step in enumerate(steps):
        if step is None:
            continue
        tree = _Tree(step, backend.chains.max_inputs)
        for spec in step[2]:
            child = producers.get(spec[1]) if spec[0] == SLOT else None
            if child is None or child in absorbed or steps[child] is None \
                    or runs[child] != runs[i] or reads.get(spec[1]) != 1:
                continue
            if tree.joined(members[child], spec):
                absorbed[child] = i
        members[i] = tree
    fused = []
    for i, call in enumerate(calls):
        if i in absorbed:
            continue
        if steps[i] is None or members[i].calls == 1:
            fused.append(call)
            continue
        chain, inputs = _chain(i, steps, absorbed, producers)
        fused.append((_chain_call(backend, chain), inputs, None, call[3]))
    return fused


class _Tree:
    """The calls one fused chain will hold, and what it reads: checked against the kernel's
    limits as subtrees join."""

    def __init__(self, step, max_inputs):
        self.max_inputs = max_inputs
        self.calls = 1
        self.inputs = {_input_key(s) for s in step[2]}
        self.clips = step[0] == "clip"

    def joined(self, child, spec):
        """Joins `child`, the tree computing this tree's operand `spec`, where the kernel
        still takes the union; -> whether it did."""
        inputs = (self.inputs - {_input_key(spec)}) | child.inputs
        if len(inputs) > self.max_inputs or self.clips + child.clips > 1:
            return False
        self.calls += child.calls
        self.inputs, self.clips = inputs, self.clips + child.clips
        return True


def _input_key(spec):
    kind, payload = spec
    return (SLOT, payload) if kind == SLOT else (CONST, id(payload))


def _chain_step(call, backend):
    """(kind, op, operand specs) of an element-wise call a chain can hold, else None."""
    fn, args, kwargs, out = call
    name = _name(fn)
    if name not in _CHAIN_STEPS or kwargs or type(out) is not int \
            or getattr(fn, "__self__", None) is not backend:
        return None
    kind = name
    if kind == "clip":
        if len(args) != 3 or any(k != CONST or hasattr(v, "shape") for k, v in args[1:]):
            return None  # array bounds: a three-input kernel of its own
        op, operands = (args[1][1], args[2][1]), args[:1]
    elif kind == "where":
        op, operands = None, args
    else:
        spec = args[1] if kind == "cast" else args[0]
        op, operands = spec[1], args[:1] if kind == "cast" else args[1:]
        # Ops with helpers of their own (rounding, trig) keep their kernels.
        if spec[0] != CONST or not isinstance(op, str) or op in MATH_UNARY_OPS:
            return None
    if any(k != SLOT and not (k == CONST and hasattr(v, "shape")) for k, v in operands):
        return None
    return kind, op, operands


def _chain(root, steps, absorbed, producers):
    """The chain of the tree rooted at call `root` (children before parents) and its
    input specs."""
    chain, inputs, index = [], [], {}

    def build(i):
        kind, op, operands = steps[i]
        codes = []
        for spec in operands:
            child = producers.get(spec[1]) if spec[0] == SLOT else None
            if child is not None and absorbed.get(child) == i:
                codes.append(-build(child) - 1)
                continue
            key = _input_key(spec)
            if key not in index:
                index[key] = len(inputs)
                inputs.append(spec)
            codes.append(index[key])
        chain.append((kind, op, tuple(codes)))
        return len(chain) - 1

    build(root)
    return tuple(chain), inputs


def _chain_call(backend, chain):
    def elementwise_chain(*arrays):
        return backend.elementwise_chain(chain, arrays)

    return elementwise_chain
