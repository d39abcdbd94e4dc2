"""Bodies of the gather family (gather.wgsl): one thread per output element (per element
written, for the two ops that write elsewhere than out[i]: strided_write, index_links).

Each entry: its kind ("window" or "index": which params struct and helper functions it
uses, KINDS), the storage buffers the body reads as (name, type) in dispatch order, the type
of the output `out` (bound last), and the WGSL that computes `out[i]`. `${T}` is the storage
type of the data being gathered (f32, i32, or u32 for bools).

Window ops (convolution and pooling, channels-last) share one params struct, WINDOW_FIELDS:
output position o and window tap k meet at input position o * strides + k * dilation - pads
(per spatial dim). Forward ops (im2col, conv, pooling) walk that from an output element;
backward ops (col2im, pooling gradients) invert it from an input element, so the VJPs are
gathers too. A thread loops over at most one window's taps: the backend keeps that under
llvmpipe's loop cap.
"""

WINDOW_FIELDS = (
    ("n", "u32"), ("channels", "u32"), ("per_group", "u32"), ("taps", "u32"),
    ("rows", "u32"), ("in_count", "u32"), ("out_count", "u32"), ("groups", "u32"),
    ("in_channels", "u32"),
    ("in_size", "dims"), ("out_size", "dims"), ("window", "dims"), ("strides", "dims"),
    ("dilation", "dims"), ("pads", "dims"),
)

# One spatial dim's step of window_read, innermost dim first; `[D]` becomes
# that dim's constant index into the params vectors. Unrolled per nd because a loop indexing
# uniform arrays dynamically runs ~30x slower on llvmpipe (measured).
_READ_DIM = """    let o[d] = rest % params.out_size[D];
    rest = rest / params.out_size[D];
    let p[d] = i32(o[d] * params.strides[D] + (t % params.window[D]) * params.dilation[D])
        - i32(params.pads[D]);
    t = t / params.window[D];
    if (p[d] < 0 || p[d] >= i32(params.in_size[D])) {
        return -1;
    }
    index += u32(p[d]) * step;
    step *= params.in_size[D];
"""
_WINDOW_FN = """
// {doc}
fn {name}(pos: u32, tap: u32) -> i32 {{
    var rest = pos;
    var t = tap;
    var index = 0u;
    var step = 1u;
{dims}    return i32(index);
}}
"""


def window_helpers(nd):
    """`window_read` (one tap's input position, for im2col) over `nd` spatial dims."""

    def unroll(step):
        return "".join(step.replace("[D]", f"[{d // 4}][{d % 4}]").replace("[d]", str(d))
                       for d in reversed(range(nd)))

    return _WINDOW_FN.format(
        name="window_read", dims=unroll(_READ_DIM),
        doc="Flat spatial index of the input that tap `tap` of output position `pos` reads, "
            "or -1 in the padding.")


# Output (groups, rows, taps * per_group): row = (batch, out position), column = (tap,
# channel in group), tap-major like the kernel. Padding reads as zero.
_IM2COL = """    let cols = params.taps * params.per_group;
    let col = i % cols;
    let row = (i / cols) % params.rows;
    let g = i / (cols * params.rows);
    let at = window_read(row % params.out_count, col / params.per_group);
    var v = ${T}(0);
    if (at >= 0) {
        let b = row / params.out_count;
        let c = g * params.per_group + col % params.per_group;
        v = x[(b * params.in_count + u32(at)) * params.channels + c];
    }
    out[i] = v;"""

# The loops over one window's taps, nested per spatial dim so the index arithmetic in them is
# multiply-adds (integer division is scalarised on software adapters: ~8x slower, measured).
# Forward: this thread's output position -> the input positions it reads. Backward: its input
# position -> the output positions whose windows read it. Before the loops `rest` holds the
# flat (batch, position) index; in the innermost loop `at` is the flat (batch, position) index
# of the other side and `tap` the window offset, row-major like the kernel.
_CORNER = """    let c{d} = rest % params.{size}[D];
    rest = rest / params.{size}[D];
"""
_FORWARD_DIM = """for (var k{d} = 0u; k{d} < params.window[D]; k{d}++) {{
    let p{d} = i32(c{d} * params.strides[D] + k{d} * params.dilation[D]) - i32(params.pads[D]);
    if (p{d} < 0 || p{d} >= i32(params.in_size[D])) {{
        continue;
    }}
    let at{d} = at{outer} * params.in_size[D] + u32(p{d});
    let tap{d} = tap{outer} * params.window[D] + k{d};
"""
_BACKWARD_DIM = """for (var k{d} = 0u; k{d} < params.window[D]; k{d}++) {{
    let q{d} = i32(c{d} + params.pads[D]) - i32(k{d} * params.dilation[D]);
    if (q{d} < 0 || u32(q{d}) % params.strides[D] != 0u) {{
        continue;
    }}
    let o{d} = u32(q{d}) / params.strides[D];
    if (o{d} >= params.out_size[D]) {{
        continue;
    }}
    let at{d} = at{outer} * params.out_size[D] + o{d};
    let tap{d} = tap{outer} * params.window[D] + k{d};
"""


def _indent(text, levels):
    pad = "    " * levels
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def window_loop(nd, per_tap, backward=False):
    """The nested tap loops of a window op over `nd` spatial dims, around `per_tap`."""
    def at(d):
        return f"[{d // 4}][{d % 4}]"

    here = "in_size" if backward else "out_size"
    corner = "".join(_CORNER.format(d=d, size=here).replace("[D]", at(d))
                     for d in reversed(range(nd)))
    text = corner + "    let at_ = rest;\n    let tap_ = 0u;\n"
    step = _BACKWARD_DIM if backward else _FORWARD_DIM
    for d in range(nd):
        outer = "_" if d == 0 else d - 1
        text += _indent(step.format(d=d, outer=outer).replace("[D]", at(d)), d + 1)
    inner = f"let at = at{nd - 1};\nlet tap = tap{nd - 1};\n" + per_tap
    text += _indent(inner, nd + 1)
    for d in reversed(range(nd)):
        text += "    " * (d + 1) + "}\n"
    return text


# Direct convolution, y (batch, *out, filters): each output sums taps * per_group products.
# Neighbouring threads take neighbouring filters, so they read one x value and contiguous
# kernel entries. The "channels" of y are its filters here; `per_group` is the kernel's.
_CONV = ("""    let filters = params.channels;
    let f = i % filters;
    var rest = i / filters;
    let first = (f / (filters / params.groups)) * params.per_group;
    var acc = 0.0;
""", """let start = at * params.in_channels + first;
let weights = tap * params.per_group * filters + f;
for (var c = 0u; c < params.per_group; c++) {
    acc += x[start + c] * kernel[weights + c * filters];
}
""", "    out[i] = acc;")

# dx (batch, *in, channels) from cols (groups, rows, taps * per_group): each input element
# sums the columns of the taps that read it.
_COL2IM = ("""    let c = i % params.channels;
    var rest = i / params.channels;
    let cols = params.taps * params.per_group;
    let base = (c / params.per_group) * params.rows * cols + c % params.per_group;
    var acc = 0.0;
""", "acc += cols_in[base + at * cols + tap * params.per_group];\n", "    out[i] = acc;")

# Pooling output element i = (batch, out position, channel); `v` is one tap's value.
_POOL_START = """    let c = i % params.channels;
    var rest = i / params.channels;
"""
_READ_X = "let v = x[at * params.channels + c];\n"

# dx (x's shape): each element sums what the windows holding it route back to it; `o` is
# one such window's output element.
_POOL_GRAD_START = _POOL_START + "    var acc = 0.0;\n"
_WINDOW_OUT = "let o = at * params.channels + c;\n"

# -- index ops: slicing, joining, take, scatter_add ----------------------------------------
# A strided walk: element q (coordinates over `shape`, up to MAX_RANK collapsed dims) of the
# walk sits at offset + sum(q * steps) in the strided array; steps are negative along
# reversed slices. take / scatter_add see their axis as (outer, dim, inner) with `count`
# indices.
INDEX_FIELDS = (
    ("n", "u32"), ("offset", "u32"), ("dim", "u32"), ("count", "u32"), ("inner", "u32"),
    ("shape", "dims"), ("steps", "idims"),
)

_STRIDED_DIM = """    at += i32(rest % params.shape[D]) * params.steps[D];
    rest = rest / params.shape[D];
"""
_INDEX_FNS = """
// Where element `pos` of the walk over params.shape sits in the strided array.
fn strided_at(pos: u32) -> u32 {{
    var rest = pos;
    var at = i32(params.offset);
{dims}    return u32(at);
}}

// An index into an axis of params.dim, negative ones counting from the end (the backend
// checked the range on the host).
fn wrapped(k: i32) -> u32 {{
    return u32(select(k, k + i32(params.dim), k < 0));
}}
"""


def index_helpers(nd):
    """`strided_at` over `nd` dims (unrolled, innermost first; the outermost needs no
    modulo) and `wrapped`."""
    def at(d):
        return f"[{d // 4}][{d % 4}]"

    dims = "".join(_STRIDED_DIM.replace("[D]", at(d)) for d in reversed(range(1, nd)))
    if nd:
        dims += f"    at += i32(rest) * params.steps{at(0)};\n"
    return _INDEX_FNS.format(dims=dims)


# take: out (outer, count, inner) from x (outer, dim, inner) at indices.
_TAKE = """    let c = i % params.inner;
    let row = i / params.inner;
    let k = wrapped(indices[row % params.count]);
    out[i] = x[((row / params.count) * params.dim + k) * params.inner + c];"""

# scatter_add's index chains, one thread per index position i: out[dim + i] is the next
# position holding the same index (-1: none), and out[k] the first position holding k (left
# -1 for indices never taken). Finding them loops over the indices (the backend keeps `count` under
# llvmpipe's loop cap); each first position is written by one thread only.
_INDEX_LINKS = """    let k = wrapped(indices[i]);
    var next = -1;
    for (var j = i + 1u; j < params.count; j++) {
        if (wrapped(indices[j]) == k) {
            next = i32(j);
            break;
        }
    }
    out[params.dim + i] = next;
    var first = true;
    for (var j = 0u; j < i; j++) {
        if (wrapped(indices[j]) == k) {
            first = false;
            break;
        }
    }
    if (first) {
        out[k] = i32(i);
    }"""

# scatter_add: out (outer, dim, inner) sums the rows of updates (outer, count, inner) whose
# index is this row, walking its chain in index order: the order numpy.add.at adds in, so the
# sums match it bit for bit (and WGSL has no float atomics to scatter with).
_SCATTER_SUM = """    let c = i % params.inner;
    let row = i / params.inner;
    let base = (row / params.dim) * params.count;
    var acc = ${T}(0);
    for (var j = links[row % params.dim]; j >= 0; j = links[params.dim + u32(j)]) {
        acc += updates[(base + u32(j)) * params.inner + c];
    }
    out[i] = acc;"""


#: The gathered data's type, filled in per dtype.
DATA = "${T}"
#: op: (kind, reads [(name, type)], output type, body), body either WGSL or, for ops that
#: loop over a window, (before, per tap, after) and whether the loop runs backward.
GATHERS = {
    "im2col": ("window", (("x", DATA),), DATA, _IM2COL),
    "conv": ("window", (("x", "f32"), ("kernel", "f32")), "f32", (_CONV, False)),
    "col2im": ("window", (("cols_in", "f32"),), "f32", (_COL2IM, True)),
    # Padding never wins a max: only in-bounds taps are read.
    "pool_max": ("window", (("x", DATA),), DATA, ((
        _POOL_START + "    var best = ${T}(0);\n    var first = true;\n",
        _READ_X + "if (first || v > best) {\n    best = v;\n}\nfirst = false;\n",
        "    out[i] = best;"), False)),
    # Averages count in-bounds taps only (Keras's 'same' pooling).
    "pool_avg": ("window", (("x", "f32"),), "f32", ((
        _POOL_START + "    var total = 0.0;\n    var count = 0u;\n",
        _READ_X + "total += v;\ncount += 1u;\n",
        "    out[i] = total / f32(count);"), False)),
    # What a window hands each of its maxima: grad / (number of tied maxima).
    "pool_max_share": ("window", (("x", DATA), ("y", DATA), ("grad", "f32")), "f32", ((
        _POOL_START + "    var count = 0u;\n",
        _READ_X + "count += select(0u, 1u, v == y[i]);\n",
        "    out[i] = grad[i] / f32(count);"), False)),
    "pool_avg_share": ("window", (("grad", "f32"),), "f32", ((
        _POOL_START + "    var count = 0u;\n",
        "count += 1u;\n",
        "    out[i] = grad[i] / f32(count);"), False)),
    "pool_max_grad": ("window", (("x", DATA), ("y", DATA), ("share", "f32")), "f32", ((
        _POOL_GRAD_START,
        _WINDOW_OUT + "if (x[i] == y[o]) {\n    acc += share[o];\n}\n",
        "    out[i] = acc;"), True)),
    "pool_avg_grad": ("window", (("share", "f32"),), "f32", ((
        _POOL_GRAD_START, _WINDOW_OUT + "acc += share[o];\n", "    out[i] = acc;"), True)),
    # strided_slice: out (the walk) read through strides.
    "strided_read": ("index", (("x", DATA),), DATA, "    out[i] = x[strided_at(i)];"),
    # slice_scatter (into zeros) and concatenate (a slab per input): values written through
    # strides. A scatter, but positions never repeat, so no thread races another.
    "strided_write": ("index", (("values", DATA),), DATA,
                      "    out[strided_at(i)] = values[i];"),
    "take": ("index", (("x", DATA), ("indices", "i32")), DATA, _TAKE),
    "index_links": ("index", (("indices", "i32"),), "i32", _INDEX_LINKS),
    "scatter_sum": ("index", (("updates", DATA), ("links", "i32")), DATA, _SCATTER_SUM),
}

#: kind: (params fields, helper functions over nd dims).
KINDS = {"window": (WINDOW_FIELDS, window_helpers), "index": (INDEX_FIELDS, index_helpers)}


def body(op, nd):
    """The WGSL body of gather op `op` over `nd` dims."""
    code = GATHERS[op][3]
    if isinstance(code, str):
        return code
    (before, per_tap, after), backward = code
    return before + window_loop(nd, per_tap, backward) + after
