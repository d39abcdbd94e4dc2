"""Cell bodies of the recurrence family (rnn_forward.wgsl, rnn_backward.wgsl): a whole sequence
of an LSTM / GRU (reset_after) / SimpleRNN cell, forward and VJP, one dispatch each.

The formulas are backend/recurrence.py's, term for term and in its order of operations, so
the kernels and the composed path agree up to the summation order of the products.

Forward bodies see, for one (row, unit): `x<g>` the input projection of gate g, `a<g>` the
recurrent product h_prev (times the dropout mask) @ U of gate g (plus the recurrent bias for
"gru"), `prev0` / `prev1` the states before the step. They set `new0` (/ `new1`) and call
`save(slot, value)` for what the VJP reads back (`saved` floats per unit and step).

Backward bodies see `dn0` / `dn1` (the gradients reaching the new states, masks applied) and
`load(slot)`; they set `dxs[g]` (the gradient of the input projection), `drs[g]` (that of the
recurrent product's output; the same as dxs except for "gru") and `direct0` / `direct1` (the
gradients of the states before the step, besides the path through the recurrent product).

`program` renders them as the package's other families are rendered (its `_fill`); the
WebGPU backend's recurrence_kernels.py dispatches them.
"""

import functools

from . import Program, _bindings, _fill

SIGMOID = "fn sigmoid(a: f32) -> f32 { return 0.5 * (tanh(clamp(0.5 * a, -15.0, 15.0)) + 1.0); }"
# As the element-wise kernels' tanh (kernels/__init__.py): clamped, some drivers NaN past ~44.
TANH = "fn tanh_(a: f32) -> f32 { return tanh(clamp(a, -15.0, 15.0)); }"

_LSTM_FORWARD = """let i = sigmoid(x0 + a0);
let f = sigmoid(x1 + a1);
let g = tanh_(x2 + a2);
let o = sigmoid(x3 + a3);
let c = f * prev1 + i * g;
let tanh_c = tanh_(c);
new0 = o * tanh_c;
new1 = c;
save(0u, i);
save(1u, f);
save(2u, g);
save(3u, o);
save(4u, tanh_c);
save(5u, prev1);"""

_LSTM_BACKWARD = """let i = load(0u);
let f = load(1u);
let g = load(2u);
let o = load(3u);
let tanh_c = load(4u);
let c_prev = load(5u);
let dc = dn1 + (dn0 * o) * (1.0 - tanh_c * tanh_c);
dxs[0] = (dc * g) * (i * (1.0 - i));
dxs[1] = (dc * c_prev) * (f * (1.0 - f));
dxs[2] = (dc * i) * (1.0 - g * g);
dxs[3] = (dn0 * tanh_c) * (o * (1.0 - o));
drs = dxs;
direct1 = dc * f;"""

_GRU_FORWARD = """let z = sigmoid(x0 + a0);
let r = sigmoid(x1 + a1);
let hh = tanh_(x2 + r * a2);
new0 = z * prev0 + (1.0 - z) * hh;
save(0u, z);
save(1u, r);
save(2u, a2);
save(3u, hh);
save(4u, prev0);"""

_GRU_BACKWARD = """let z = load(0u);
let r = load(1u);
let inner_h = load(2u);
let hh = load(3u);
let h_prev = load(4u);
let dz = (dn0 * (h_prev - hh)) * (z * (1.0 - z));
let da = (dn0 * (1.0 - z)) * (1.0 - hh * hh);
let dr = (da * inner_h) * (r * (1.0 - r));
dxs = array<f32, 3>(dz, dr, da);
drs = array<f32, 3>(dz, dr, da * r);
direct0 = dn0 * z;"""

_SIMPLE_RNN_FORWARD = """new0 = tanh_(x0 + a0);
save(0u, new0);"""

_SIMPLE_RNN_BACKWARD = """let h = load(0u);
dxs[0] = dn0 * (1.0 - h * h);
drs = dxs;"""


class Cell:
    """One cell's shape (gates, states, floats saved per unit and step) and bodies.
    `recurrent_grad`: the VJP writes the recurrent product's gradient apart from the input
    projection's (only where they differ)."""

    def __init__(self, gates, states, saved, forward, backward, bias=False,
                 recurrent_grad=False):
        self.gates, self.states, self.saved = gates, states, saved
        self.forward, self.backward = forward, backward
        self.bias, self.recurrent_grad = bias, recurrent_grad


#: The cells of Backend.rnn_scan the kernels run ("gru_reset_before" needs the reset gate of
#: every unit before its product: the composed path runs it).
CELLS = {
    "lstm": Cell(4, 2, 6, _LSTM_FORWARD, _LSTM_BACKWARD),
    "gru": Cell(3, 1, 5, _GRU_FORWARD, _GRU_BACKWARD, bias=True, recurrent_grad=True),
    "simple_rnn": Cell(1, 1, 1, _SIMPLE_RNN_FORWARD, _SIMPLE_RNN_BACKWARD),
}

#: The params of both directions.
FIELDS = (("batch", "u32"), ("steps", "u32"), ("units", "u32"), ("has_mask", "u32"),
          ("has_dropout", "u32"), ("go_backwards", "u32"), ("zero_output", "u32"))


def forward_bindings(cell):
    """(reads, writes) of the forward kernel, in dispatch order: at most 8 storage buffers."""
    reads = [("inputs", "f32"), ("h0", "f32")]
    reads += [("c0", "f32")] if cell.states == 2 else []
    reads += [("kernel", "f32")] + ([("bias", "f32")] if cell.bias else [])
    reads += [("mask", "u32"), ("dropout", "f32")]
    return reads, [("out", "f32"), ("saved", "f32")]


def backward_bindings(cell):
    """(reads, writes) of the VJP kernel: `kernel_t` is the recurrent kernel transposed."""
    reads = [("grad", "f32"), ("mask", "u32"), ("dropout", "f32"), ("kernel_t", "f32"),
             ("saved", "f32")]
    writes = [("d_inputs", "f32")] + ([("d_recurrent", "f32")] if cell.recurrent_grad else [])
    writes += [("d_h0", "f32")] + ([("d_c0", "f32")] if cell.states == 2 else [])
    return reads, writes


def gate_reads(cell):
    """The forward body's x<g> and a<g> for row r, unit j (accumulators in `acc`)."""
    lines = []
    for g in range(cell.gates):
        lines.append(f"let x{g} = inputs[x_base + {g}u * u];")
        bias = f" + bias[{g}u * u + j]" if cell.bias else ""
        lines.append(f"let a{g} = acc[r * GATES + {g}u]{bias};")
    return "\n".join(lines)


@functools.cache
def program(direction, cell, workgroup, rows, capacity):
    """The "forward" or "backward" kernel of `cell`: workgroups of `workgroup` threads, each
    running `rows` batch rows of at most `capacity` units. Cached (the pipeline key)."""
    spec = CELLS[cell]
    forward = direction == "forward"
    reads, writes = (forward_bindings if forward else backward_bindings)(spec)
    per_thread = -(-capacity // workgroup)
    if forward:
        init = "state1[r * PER + q] = c0[b * u + j];"
        final = "out[(b * packed + steps + 1u) * u + j] = state1[r * PER + q];"
    else:
        init = "ds1[r * PER + q] = grad[(b * packed + steps + 1u) * u + j];"
        final = "d_c0[b * u + j] = ds1[r * PER + q];"
    two = spec.states == 2
    write_recurrent = ("d_recurrent[(b * steps + t) * gu + gate * u + j] = drs[gate];"
                       if spec.recurrent_grad else "")
    source = _fill(
        "rnn_" + direction, FIELDS, bindings=_bindings(reads, writes), workgroup=workgroup,
        rows=rows, per_thread=per_thread, gates=spec.gates, saved=spec.saved,
        states=spec.states, slots=rows * per_thread, accumulators=rows * spec.gates,
        shared=rows * capacity * (1 if forward else spec.gates),
        helpers=SIGMOID + "\n" + TANH, init_state1=init if two else "",
        final_state1=final if two else "", gate_reads=gate_reads(spec),
        body=spec.forward if forward else spec.backward, write_recurrent=write_recurrent,
    )
    return Program(source, FIELDS, workgroup)
