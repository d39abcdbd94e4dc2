"""WGSL kernels, rendered from a few templates.

Each family (element-wise, reductions, matmul, softmax, one_hot, optimizer updates) is one
`.wgsl` template beside this file plus a table of op bodies here. `program(family, **spec)`
fills the template and returns a `Program`: the WGSL source, the layout of its uniform params
struct and its workgroup size. Shapes and scalars go in the uniform, never in the source, so
new shapes reuse the pipeline; `spec` holds only what changes the source, which makes it the
pipeline cache key.

Conventions (see backend/webgpu/driver.py): entry point `main`, `@group(0)`, the params struct
at `@binding(0)`, storage buffers at 1..n (inputs first, then outputs). bool is stored as u32.
"""

import functools
import struct
from importlib import resources

from . import gather

#: Storage type of each dtype. bool is u32 (0/1): WGSL has no storable bool.
WGSL_TYPES = {"float32": "f32", "int32": "i32", "bool": "u32"}
#: Most dims a shape passed in a uniform can have (two vec4<u32>).
MAX_RANK = 8
#: Params field kinds holding MAX_RANK numbers: "dims" unsigned, "idims" signed (strides of
#: reversed slices), each two vec4s.
DIMS_KINDS = {"dims": ("u32", "I"), "idims": ("i32", "i")}

# Unary bodies over `a`, for f32. Int32 uses INT_UNARY where listed, else the f32 body.
# tanh is clamped: some drivers compute it as a ratio of exps that turns NaN for |a| > ~44.
FLOAT_UNARY = {
    "neg": "-a",
    "exp": "exp(a)",
    "log": "log(a)",
    "sqrt": "sqrt(a)",
    "abs": "abs(a)",
    "sign": "sign(a)",
    "square": "a * a",
    "reciprocal": "1.0 / a",
    "relu": "max(a, 0.0)",
    "sigmoid": "0.5 * (tanh(clamp(0.5 * a, -15.0, 15.0)) + 1.0)",
    "tanh": "tanh(clamp(a, -15.0, 15.0))",
    "copy": "a",
}
INT_UNARY = {
    "neg": "-a", "abs": "abs(a)", "sign": "sign(a)", "square": "a * a",
    "relu": "max(a, 0)", "copy": "a",
}
ARITHMETIC = {
    "add": "a + b",
    "sub": "a - b",
    "mul": "a * b",
    "div": "a / b",
    "maximum": "max(a, b)",
    "minimum": "min(a, b)",
    "pow": "pow(a, b)",
}
COMPARISON = {
    "equal": "==", "not_equal": "!=", "greater": ">", "greater_equal": ">=",
    "less": "<", "less_equal": "<=",
}

# Reductions: how two (value, index) pairs combine, and the output from the final pair.
REDUCE_COMBINE = {
    "sum": "return Pair(x.v + y.v, 0u);",
    "mean": "return Pair(x.v + y.v, 0u);",
    "max": "return Pair(max(x.v, y.v), 0u);",
    "min": "return Pair(min(x.v, y.v), 0u);",
    "argmax": "if (y.v > x.v || (y.v == x.v && y.i < x.i)) { return y; } return x;",
}
REDUCE_FINISH = {
    "sum": "p.v", "max": "p.v", "min": "p.v", "argmax": "i32(p.i)",
    "mean": "p.v / ${T}(params.reduced)",
}

_SCALAR_FORMATS = {"u32": "I", "i32": "i", "f32": "f"}


class Program:
    """A rendered kernel: `source`, the params `fields` [(name, type)], `workgroup` size."""

    def __init__(self, source, fields, workgroup):
        self.source = source
        self.fields = tuple(fields)
        self.workgroup = workgroup
        self._format = struct.Struct(_params_format(self.fields))

    def pack(self, **values):
        """The params struct as bytes. "dims"/"idims" fields take a sequence (≤ MAX_RANK)."""
        flat = []
        for name, kind in self.fields:
            value = values.get(name, () if kind in DIMS_KINDS else 0)
            if kind in DIMS_KINDS:
                flat.extend(value)
                flat.extend([0] * (MAX_RANK - len(value)))
            else:
                flat.append(value)
        return self._format.pack(*flat)


def _params_format(fields):
    """One struct format for the whole params struct, WGSL uniform alignment included.

    Scalars are 4 bytes; a "dims"/"idims" field (two vec4) starts on a 16-byte boundary; the
    struct size is a multiple of 16. Packing with one precompiled Struct keeps per-dispatch
    host cost low (it runs for every op).
    """
    parts, offset = ["<"], 0
    for _, kind in fields:
        if kind in DIMS_KINDS:
            pad = -offset % 16
            parts.append(f"{pad}x" if pad else "")
            parts.append(f"{MAX_RANK}{DIMS_KINDS[kind][1]}")
            offset += pad + 4 * MAX_RANK
        else:
            parts.append(_SCALAR_FORMATS[kind])
            offset += 4
    pad = -offset % 16
    parts.append(f"{pad}x" if pad else "")
    return "".join(parts)


def _struct_source(fields):
    members = []
    for name, kind in fields:
        wgsl = (f"array<vec4<{DIMS_KINDS[kind][0]}>, {MAX_RANK // 4}>" if kind in DIMS_KINDS
                else kind)
        members.append(f"    {name}: {wgsl},")
    return "struct Params {\n" + "\n".join(members) + "\n}\n"


def _bindings(reads=(), writes=(), order=None):
    """Binding lines: params at 0, then storage buffers at 1..n.

    `reads` are read-only, `writes` read_write, both [(name, type)]; the slots follow `order`
    (names) when given, else reads then writes.
    """
    access = {name: "read" for name, _ in reads}
    access.update({name: "read_write" for name, _ in writes})
    types = dict(list(reads) + list(writes))
    lines = ["@group(0) @binding(0) var<uniform> params: Params;"]
    for slot, name in enumerate(order or list(types), start=1):
        lines.append(
            f"@group(0) @binding({slot}) var<storage, {access[name]}> {name}: array<{types[name]}>;"
        )
    return "\n".join(lines)


@functools.cache
def _template(name):
    return resources.files(__package__).joinpath(name + ".wgsl").read_text()


# The entry point of every 1-D kernel: workgroups laid out on a 2-D grid (so more than 65535
# of them still fit), `group` is this workgroup's index along the flattened grid.
ENTRY = """@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let group = wid.y * groups.x + wid.x;"""

# Shapes and strides travel in uniforms as array<vec4<u32>, 2> (8 dims): element d of one.
DIM_FN = """fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}"""


def _fill(name, fields, **subs):
    text = _template(name).replace("${entry}", ENTRY).replace("${dim_fn}", DIM_FN)
    for key, value in dict(subs, params=_struct_source(fields)).items():
        text = text.replace("${" + key + "}", str(value))
    return text


def unary_body(op, dtype):
    """(expression of unary `op` on `a` for `dtype`, helper functions it needs)."""
    if dtype == "float32":
        return FLOAT_UNARY[op], ""
    if op in INT_UNARY:
        return INT_UNARY[op], ""
    # Float-only ops on ints: compute in f32, truncate back (as NumPy's astype does).
    helper = f"fn float_op(a: f32) -> f32 {{ return {FLOAT_UNARY[op]}; }}\n"
    return f"{WGSL_TYPES[dtype]}(float_op(f32(a)))", helper


def binary_body(op, dtype):
    """The expression of binary `op` on `a`, `b`; comparisons give u32 (bool)."""
    if op in COMPARISON:
        return f"select(0u, 1u, a {COMPARISON[op]} b)"
    if op == "pow" and dtype != "float32":
        return f"{WGSL_TYPES[dtype]}(round(pow(f32(a), f32(b))))"
    return ARITHMETIC[op]


# erf has no WGSL builtin: Eigen's rational approximation (generic_fast_erf_float) on
# [-4, 4], beyond which erf is ±1 in f32. Within 5e-7 of libm's (measured over 2M points).
_ERF_HELPER = """fn erf_f32(a: f32) -> f32 {
    let x = clamp(a, -4.0, 4.0);
    let x2 = x * x;
    var p = -2.72614225801306e-10 * x2 + 2.77068142495902e-08;
    p = p * x2 - 2.10102402082508e-06;
    p = p * x2 - 5.69250639462346e-05;
    p = p * x2 - 7.34990630326855e-04;
    p = p * x2 - 2.95459980854025e-03;
    p = p * x2 - 1.60960333262415e-02;
    var q = -1.45660718464996e-05 * x2 - 2.13374055278905e-04;
    q = q * x2 - 1.68282697438203e-03;
    q = q * x2 - 7.37332916720468e-03;
    q = q * x2 - 1.42647390514189e-02;
    return x * p / q;
}
"""
# As the NumPy backend's astype of the float64 result: for ints erf(k) only reaches ±1.0 at
# |k| >= 6 (else it truncates to 0); for bools erf(1) ~ 0.84 is True again.
_ERF = {
    "float32": ("erf_f32(a)", _ERF_HELPER),
    "int32": ("select(0, sign(a), abs(a) >= 6)", ""),
    "bool": ("a", ""),
}


def erf_body(dtype):
    """(element-wise erf of `a` for `dtype`, helper functions it needs)."""
    return _ERF[dtype]


def cast_body(src, dst):
    if dst == "bool":
        zero = {"f32": "0.0", "i32": "0", "u32": "0u"}[WGSL_TYPES[src]]
        return f"select(0u, 1u, a != {zero})"
    return f"{WGSL_TYPES[dst]}(a)"


@functools.cache
def program(family, **spec):
    """Render one kernel of `family` for `spec` (only what changes the source). Cached."""
    return _RENDERERS[family](**spec)


def render(family, **spec):
    """The WGSL source of `program(family, **spec)`."""
    return program(family, **spec).source


#: What an element-wise body calls its inputs, in order.
ELEMENTWISE_INPUTS = ("a", "b", "c", "a3", "a4", "a5", "a6")


def _elementwise(body, out, inputs, modes, scalar="f32", helpers="", workgroup=256):
    """out[i] = body(a, b, c) over inputs read contiguously, as a scalar, or by strides.

    inputs: WGSL storage types of the inputs; modes: one of layout.read_mode's modes each.
    `scalar` is the type of params.x0 / x1 (clip bounds, fill value). Inputs are named `a`,
    `b`, `c`, then `a3`, `a4`, ... (fused chains read more than three: see
    backend/webgpu/elementwise_chains.py).
    """
    names = ELEMENTWISE_INPUTS
    fields = [("n", "u32"), ("rank", "u32"), ("x0", scalar), ("x1", scalar), ("shape", "dims")]
    fields += [(f"s{k}", "dims") for k in range(len(inputs))]
    strided = [k for k, mode in enumerate(modes) if mode == "strided"]
    index = ""
    if strided:
        offsets = "".join(f"    var o{k} = 0u;\n" for k in strided)
        accum = "".join(f"        o{k} += q * dim(params.s{k}, d);\n" for k in strided)
        index = (
            offsets
            + "    var rest = i;\n"
            + "    for (var d = params.rank; d > 0u; d--) {\n"
            + "        let size = dim(params.shape, d - 1u);\n"
            + "        let q = rest % size;\n"
            + "        rest = rest / size;\n"
            + accum.replace("d)", "d - 1u)")
            + "    }\n"
        )
    # Index expressions of the fast read modes (layout.read_mode): numbers come in params.s<k>.
    where = {
        "contig": "i",
        "scalar": "0u",
        "mod": "i % params.s{k}[0].x",
        "div": "i / params.s{k}[0].x",
        "t2": "(i % params.s{k}[0].y) * params.s{k}[0].x + i / params.s{k}[0].y",
        "strided": "o{k}",
    }
    loads = "".join(
        f"    let {names[k]} = in{k}[{where[mode].format(k=k)}];\n"
        for k, mode in enumerate(modes)
    )
    reads = [(f"in{k}", wgsl) for k, wgsl in enumerate(inputs)]
    source = _fill(
        "elementwise", fields, bindings=_bindings(reads, [("out", out)]),
        workgroup=workgroup, index=index, loads=loads, body=body, helpers=helpers,
    )
    return Program(source, fields, workgroup)


def _reduce(op, dtype, layout, workgroup=256):
    """Reduce a [outer, reduced, inner] view over its middle axis.

    layout "rows": one workgroup per output with a shared-memory tree (inner == 1);
    "cols": one thread per output walking the reduced axis (neighbours read neighbours).
    """
    wgsl = WGSL_TYPES[dtype]
    fields = [("outputs", "u32"), ("reduced", "u32"), ("inner", "u32")]
    out = "i32" if op == "argmax" else wgsl
    finish = REDUCE_FINISH[op].replace("${T}", wgsl)
    # Every thread folds element 0 in first: harmless for max/min/argmax, so sums start at 0.
    seed = f"p.v = {wgsl}(0);" if op in ("sum", "mean") else ""
    source = _fill(
        "reduce_" + layout, fields, bindings=_bindings([("x", wgsl)], [("out", out)]),
        workgroup=workgroup, T=wgsl, combine=REDUCE_COMBINE[op], finish=finish, seed=seed,
    )
    return Program(source, fields, workgroup)


def _matmul(wx, wy, tk, transpose_a=False, transpose_b=False, tiles=True):
    """Matmul: a (wx x wy)-thread workgroup computes a (4*wy x 4*wx) block of C (with `tiles`:
    through tiles in workgroup memory, for GPUs), else a (MATMUL_DIRECT_ROWS*wy x
    MATMUL_DIRECT_COLS*wx) block read from the buffers (software adapters; `tk` None).

    A is [m, k] ([k, m] when transpose_a), B is [k, n] ([n, k] when transpose_b).
    """
    fields = [("m", "u32"), ("n", "u32"), ("k", "u32"), ("batch_rank", "u32"),
              ("batch_shape", "dims"), ("a_strides", "dims"), ("b_strides", "dims")]
    bindings = _bindings([("a", "f32"), ("b", "f32")], [("c", "f32")])
    if not tiles:
        return _matmul_direct(fields, bindings, wx, wy, transpose_a, transpose_b)
    # Tile loads walk the operand's contiguous axis: k for A (m for A^T), n for B (k for B^T).
    a_walk = ("k", "e / TK", "e % TK") if not transpose_a else ("m", "e % TILE_M", "e / TILE_M")
    b_walk = ("n", "e % TILE_N", "e / TILE_N") if not transpose_b else ("k", "e / TK", "e % TK")
    source = _fill(
        "matmul", fields, bindings=bindings, wx=wx, wy=wy, tk=tk,
        a_index="gk * m + gm" if transpose_a else "gm * k + gk",
        b_index="gn * k + gk" if transpose_b else "gk * n + gn",
        a_walk=f"along {a_walk[0]}", a_tm=a_walk[1], a_tk=a_walk[2],
        b_walk=f"along {b_walk[0]}", b_tn=b_walk[1], b_tk=b_walk[2],
    )
    return Program(source, fields, (wx, wy, 1))


#: The block of C a thread of matmul_direct.wgsl computes (the columns as vec4s).
MATMUL_DIRECT_ROWS = 8
MATMUL_DIRECT_COLS = 8


def _matmul_direct(fields, bindings, wx, wy, transpose_a, transpose_b):
    """matmul_direct.wgsl with its per-thread block unrolled: op(A)[row, kk] is at
    row * a_row + kk * a_step, op(B)[kk, col] at col * b_col + kk * b_step."""
    a_row, a_step = ("1u", "m") if transpose_a else ("k", "1u")
    b_col, b_step = ("k", "1u") if transpose_b else ("1u", "n")
    rows, vecs = range(MATMUL_DIRECT_ROWS), range(MATMUL_DIRECT_COLS // 4)
    offsets = [f"    let a{i} = a_off + min(row + {i}u, m - 1u) * {a_row};" for i in rows]
    offsets += [f"    let b{j} = b_off + min(col + {j}u, n - 1u) * {b_col};"
                for j in range(MATMUL_DIRECT_COLS)]
    accumulators = [f"    var acc{i}_{v} = vec4<f32>();" for i in rows for v in vecs]

    def products(kk, indent):
        """The rank-1 update of the block by column kk of op(A) and row kk of op(B)."""
        lines = [f"let ka = {kk} * {a_step};", f"let kb = {kk} * {b_step};"]
        lines += [f"let bv{v} = vec4<f32>(" + ", ".join(f"b[b{4 * v + j} + kb]" for j in range(4))
                  + ");" for v in vecs]
        lines += [f"let av{i} = a[a{i} + ka];" for i in rows]
        lines += [f"acc{i}_{v} += av{i} * bv{v};" for i in rows for v in vecs]
        return "\n".join(indent + line for line in lines)

    one_at_a_time = f"        for (; kk < k1; kk++) {{\n{products('kk', ' ' * 12)}\n        }}"
    k_loop = "        var kk = k0;\n"
    if transpose_a:
        # Unrolled, A^T reads ran up to 12x slower on lavapipe (m = 128: a cache-set clash).
        k_loop += one_at_a_time
    else:
        # Four k a trip, then the rest: fewer loop tests and active-lane masks, 2x faster
        # on SwiftShader (128x784 @ 784x128: 10 -> 5 ms).
        unrolled = "\n".join(f"            {{\n{products(f'(kk + {step}u)', ' ' * 16)}\n"
                              "            }" for step in range(4))
        k_loop += f"        for (; kk + 4u <= k1; kk += 4u) {{\n{unrolled}\n        }}\n"
        k_loop += one_at_a_time
    stores = []
    for i in rows:
        stores.append(f"    if (row + {i}u < m) {{")
        stores += [f"        store4(c_off + (row + {i}u) * n + col + {4 * v}u, col + {4 * v}u, n, "
                   f"acc{i}_{v});" for v in vecs]
        stores.append("    }")
    source = _fill(
        "matmul_direct", fields, bindings=bindings, wx=wx, wy=wy, a_step=a_step,
        b_step=b_step, rows=MATMUL_DIRECT_ROWS, cols=MATMUL_DIRECT_COLS,
        offsets="\n".join(offsets), accumulators="\n".join(accumulators),
        k_loop=k_loop, stores="\n".join(stores),
    )
    return Program(source, fields, (wx, wy, 1))


def _softmax(log, layout="rows", workgroup=256):
    """layout "rows": a workgroup per row (shared-memory tree); "thread": a thread per row."""
    fields = [("rows", "u32"), ("cols", "u32")]
    result = "(v - mx) - log(total)" if log else "exp(v - mx) / total"
    bindings = _bindings([("x", "f32")], [("out", "f32")])
    name = "softmax" if layout == "rows" else "softmax_thread"
    source = _fill(name, fields, bindings=bindings, workgroup=workgroup, result=result)
    return Program(source, fields, workgroup)


def _one_hot(dtype, workgroup=256):
    fields = [("n", "u32"), ("depth", "u32")]
    wgsl = WGSL_TYPES[dtype]
    bindings = _bindings([("indices", "i32")], [("out", wgsl)])
    source = _fill("one_hot", fields, bindings=bindings, workgroup=workgroup, T=wgsl)
    return Program(source, fields, workgroup)


#: The params of every optimizer update: the per-step and per-optimizer scalars (never in the
#: source, so a learning rate schedule never recompiles).
OPTIMIZER_FIELDS = (
    ("n", "u32"), ("lr", "f32"), ("alpha", "f32"), ("momentum", "f32"),
    ("one_minus_beta_1", "f32"), ("one_minus_beta_2", "f32"), ("rho", "f32"),
    ("one_minus_rho", "f32"), ("epsilon", "f32"), ("weight_decay", "f32"),
)


def _optimizer(buffers, body, workgroup=256):
    """A fused in-place optimizer update of element i (bodies: backend/webgpu/optimizer_updates.py).

    buffers: binding names in the caller's order; "grad" is read, the others read and written.
    """
    writes = [(name, "f32") for name in buffers if name != "grad"]
    bindings = _bindings([("grad", "f32")], writes, order=list(buffers))
    source = _fill("optimizer", OPTIMIZER_FIELDS, bindings=bindings, workgroup=workgroup,
                   body=body)
    return Program(source, OPTIMIZER_FIELDS, workgroup)


def _gather(op, nd, dtype="float32", workgroup=256):
    """One thread per output of gather op `op` over `nd` dims (kernels/gather.py): spatial
    dims for window ops, collapsed dims of the strided walk for index ops."""
    kind, reads, out, _ = gather.GATHERS[op]
    fields, helpers = gather.KINDS[kind]
    wgsl = WGSL_TYPES[dtype]
    reads = [(name, type_.replace("${T}", wgsl)) for name, type_ in reads]
    source = _fill(
        "gather", fields, bindings=_bindings(reads, [("out", out.replace("${T}", wgsl))]),
        workgroup=workgroup, op=op, helpers=helpers(nd),
        body=gather.body(op, nd), T=wgsl,
    )
    return Program(source, fields, workgroup)


_RENDERERS = {
    "elementwise": _elementwise,
    "reduce": _reduce,
    "matmul": _matmul,
    "softmax": _softmax,
    "one_hot": _one_hot,
    "optimizer": _optimizer,
    "gather": _gather,
}
