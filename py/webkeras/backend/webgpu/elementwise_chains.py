"""Chains of element-wise primitives as one kernel (a traced plan's fused calls).

A Dense layer's bias addition and activation, or an activation's gradient times the incoming
gradient (`g * cast(y > 0, "float32")`), are two or three element-wise dispatches, each writing
a whole intermediate array that only the next one reads. Fused (trainers/plan_fusion.py), such
a chain is one dispatch of the element-wise template (kernels/elementwise.wgsl): each step is a
WGSL function whose body is the one its own kernel has (the same tables in `webkeras.kernels`),
and the kernel's body nests the calls, so intermediates stay in registers.

A chain is a tuple of steps `(kind, op, operands)`, the last giving the result:
- kind "unary" (op: a unary op), "binary" (op: a binary op), "cast" (op: the dtype),
  "where" (op None; operands condition, a, b), "clip" (op: (low, high), Python scalars);
- operands: `k >= 0` is the chain's k-th input array, `-(j + 1)` the result of step j.

Element-wise steps commute with broadcasting, so every input is read broadcast straight to
the result's shape (the broadcast of all the inputs' shapes).
"""

import functools

import numpy as np

from webkeras.backend.base import COMPARISON_OPS
from webkeras.backend.webgpu import layout
from webkeras.backend.webgpu.array import device_dtype
from webkeras.backend.webgpu.kernel_source import kernels

#: Most arrays one fused chain reads (storage buffers: these plus the output, within the
#: 8 a stage may bind on every adapter).
MAX_INPUTS = len(kernels.ELEMENTWISE_INPUTS)
#: The parameter names of each step kind's function, in its operands' order.
PARAMETERS = {"unary": ("a",), "binary": ("a", "b"), "cast": ("a",), "where": ("c", "a", "b"),
              "clip": ("a",)}
_CLIP_LIMITS = {"f32": 3.4e38, "i32": 2**31 - 1}


def _step(index, kind, op, dtypes):
    """(WGSL function `step<index>` computing one step on operands of `dtypes`, its result's
    dtype)."""
    helpers = ""
    if kind == "unary":
        body, helpers = kernels.unary_body(op, dtypes[0])
        out = dtypes[0]
    elif kind == "binary":
        body = kernels.binary_body(op, dtypes[0])
        out = "bool" if op in COMPARISON_OPS else dtypes[0]
    elif kind == "cast":
        out = device_dtype(np.dtype(op))
        body = "a" if out == dtypes[0] else kernels.cast_body(dtypes[0], out)
    elif kind == "where":
        body, out = "select(b, a, c != 0u)", dtypes[1]
    else:  # clip: its bounds come in params.x0 / x1
        body, out = "min(max(a, params.x0), params.x1)", dtypes[0]
    # A float-only op on ints brings its own `float_op` helper: one name per step.
    helper_name = f"float_op{index}"
    helpers, body = helpers.replace("float_op", helper_name), body.replace("float_op",
                                                                          helper_name)
    wgsl = kernels.WGSL_TYPES
    parameters = ", ".join(f"{name}: {wgsl[dtype]}"
                           for name, dtype in zip(PARAMETERS[kind], dtypes))
    function = f"fn step{index}({parameters}) -> {wgsl[out]} {{\n    return {body};\n}}\n"
    return helpers + function, out


@functools.lru_cache(maxsize=1024)
def chain_source(chain, dtypes):
    """(body, helpers, result dtype, the clip step's dtype or None) of `chain` over inputs
    of `dtypes`."""
    helpers, results, clip = [], [], None
    for index, (kind, op, operands) in enumerate(chain):
        operand_dtypes = [dtypes[k] if k >= 0 else results[-k - 1] for k in operands]
        function, out = _step(index, kind, op, operand_dtypes)
        helpers.append(function)
        results.append(out)
        if kind == "clip":
            clip = out

    def call(index):
        _, _, operands = chain[index]
        return f"step{index}(" + ", ".join(
            kernels.ELEMENTWISE_INPUTS[k] if k >= 0 else call(-k - 1) for k in operands) + ")"

    return call(len(chain) - 1), "".join(helpers), results[-1], clip


class ElementwiseChains:
    """Runs fused element-wise chains on `gpu` (the WebGPU backend that holds it)."""

    max_inputs = MAX_INPUTS

    def __init__(self, gpu):
        self.gpu = gpu

    def run(self, chain, arrays):
        """The result of `chain` (see the module docstring) over `arrays`, one dispatch."""
        if len(arrays) > MAX_INPUTS:
            raise ValueError(f"A fused element-wise chain reads at most {MAX_INPUTS} arrays; "
                             f"received {len(arrays)}.")
        body, helpers, out_dtype, clip_dtype = chain_source(chain,
                                                            tuple(a.dtype for a in arrays))
        out_shape = layout.broadcast_shapes(*(a.shape for a in arrays))
        inputs = [(a, layout.broadcast_strides(a.shape, out_shape)) for a in arrays]
        scalar, x0, x1 = "f32", 0, 0
        if clip_dtype is not None:
            low, high = next(op for kind, op, _ in chain if kind == "clip")
            scalar = kernels.WGSL_TYPES[clip_dtype]
            big, cast = _CLIP_LIMITS[scalar], float if scalar == "f32" else int
            x0 = -big if low is None else cast(low)
            x1 = big if high is None else cast(high)
        return self.gpu.map_kernel(body, out_dtype, inputs, out_shape, x0=x0, x1=x1,
                                   scalar=scalar, helpers=helpers)
