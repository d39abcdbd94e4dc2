"""Run in the tab's Pyodide worker by tests/test_wasm_kernels.py: every WASM SIMD kernel against the
NumPy backend's own path (in float64) over many shapes; evaluates to a JSON summary per kernel:
{"cases", "max_rel_err" (max |out - want| / max |want|), "worst" case, "failures"}, and which
build ran. The caller defines VARIANT first: a key of wasm_kernels.MODULES.
"""

import itertools
import json

import numpy as np

from webkeras.backend.numpy import NumpyBackend, wasm_conv, wasm_kernels

kernels = wasm_kernels.load(wasm_kernels.module_path(VARIANT))  # noqa: F821 (the caller's)
saved = (wasm_kernels.MIN_GEMM_WORK, wasm_kernels.MIN_UPDATE_SIZE, wasm_kernels.MIN_ELEMENTWISE,
         wasm_conv.MIN_CONV_WORK, wasm_conv.MAX_PATCH_FLOATS, wasm_conv.MAX_DIRECT_DEPTH)
# every case through the kernels, however small
wasm_kernels.MIN_GEMM_WORK = wasm_kernels.MIN_UPDATE_SIZE = wasm_kernels.MIN_ELEMENTWISE = 0
wasm_conv.MIN_CONV_WORK = 0
reference = NumpyBackend()
reference.simd = None  # the plain NumPy path, in float64
rng = np.random.default_rng(0)
results = {}


def rel_err(out, want):
    """max |out - want| / max |want| (normwise; 0 for empty results)."""
    want = np.asarray(want, dtype=np.float64)
    if want.size == 0:
        return 0.0
    return float(np.abs(np.asarray(out, np.float64) - want).max() / max(np.abs(want).max(), 1e-30))


def record(kernel, case, out, want):
    entry = results.setdefault(kernel, {"cases": 0, "max_rel_err": 0.0, "worst": None})
    if out is None or np.shape(out) != np.shape(want):
        failure = f"{case}: shape {np.shape(out)} != {np.shape(want)}"
        entry.setdefault("failures", []).append(failure)
        return
    err = rel_err(out, want)
    if not np.isfinite(err) or err > entry["max_rel_err"]:
        entry["max_rel_err"], entry["worst"] = err, case
    entry["cases"] += 1


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# -- GEMM: every transpose pair over 1, odd, primes, block edges (4x8 tile, 256 K, 128 M,
# 1024 N panels) and sizes >= 1,000
SIZES = [1, 3, 4, 8, 13, 17, 129]
TRIPLES = list(itertools.product(SIZES, SIZES, [1, 7, 257]))
TRIPLES += [(1, 1, 2000), (1031, 1, 1), (1, 1031, 5), (1031, 17, 300), (5, 1031, 1031),
            (128, 784, 128), (257, 263, 513), (3, 2053, 7), (1000, 1000, 3), (0, 5, 3),
            (4, 0, 3), (4, 5, 0)]
for (m, n, k), ta, tb in itertools.product(TRIPLES, (False, True), (False, True)):
    a = f32(*((k, m) if ta else (m, k)))
    b = f32(*((n, k) if tb else (k, n)))
    want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)
    record("sgemm", f"{m}x{n}x{k} ta={ta} tb={tb}", kernels.sgemm(a, b, ta, tb), want)

# strided views: row stride > columns, column slices, transposed (F-order), reversed, columns
# of a wider array, broadcast rows; and accumulate into an existing result
base = f32(300, 700)
views = {"rows[::2]": base[::2, :301], "cols[3:260]": base[:97, 3:260],
         "F-order": np.asfortranarray(base[:61, :257]), "reversed": base[::-1, ::-1][:33, :129],
         "T of slice": base[5:262, 10:70].T, "every 3rd col": base[:50, ::3],
         "broadcast": np.broadcast_to(base[0, :129], (40, 129))}
for (na, va), (nb, vb) in itertools.product(views.items(), repeat=2):
    for ta, tb in itertools.product((False, True), repeat=2):
        k_a = va.shape[0] if ta else va.shape[1]
        k_b = vb.shape[1] if tb else vb.shape[0]
        if k_a != k_b:
            continue
        want = (va.T if ta else va).astype(np.float64) @ (vb.T if tb else vb).astype(np.float64)
        record("sgemm strided", f"{na} @ {nb} ta={ta} tb={tb}", kernels.sgemm(va, vb, ta, tb), want)
acc = f32(37, 45)
a, b = f32(37, 300), f32(300, 45)
want = acc.astype(np.float64) + a.astype(np.float64) @ b
record("sgemm accumulate", "37x45x300", kernels.sgemm(a, b, out=acc.copy(), accumulate=True), want)
# the backend entry: rows @ matrix, batches of matrices (a plain matrix shared by the batch),
# transposes, swapped-axes views
MATMULS = [((4, 33, 70), (70, 9)), ((33, 70), (70, 9)), ((2, 3, 5, 8), (8, 1000)),
           ((2, 3, 5, 7), (2, 3, 7, 4)), ((1031, 3, 5), (1031, 5, 2)), ((6, 17, 13), (13, 9)),
           ((13, 17), (6, 17, 9)), ((1, 129, 257), (1, 257, 31)), ((3, 1, 1), (3, 1, 1000)),
           ((5, 3, 0), (0, 4)), ((2, 3, 0), (2, 0, 4)), ((0, 3, 5), (0, 5, 2))]
for (shape_a, shape_b), ta, tb in itertools.product(MATMULS, (False, True), (False, True)):
    shape_a = shape_a[:-2] + shape_a[-2:][::-1] if ta else shape_a
    shape_b = shape_b[:-2] + shape_b[-2:][::-1] if tb else shape_b
    a, b = f32(*shape_a), f32(*shape_b)
    want = np.matmul(np.swapaxes(a, -1, -2) if ta else a,
                     np.swapaxes(b, -1, -2).astype(np.float64) if tb else b.astype(np.float64))
    case = f"{shape_a} @ {shape_b} ta={ta} tb={tb}"
    record("matmul", case, kernels.matmul(a, b, ta, tb), want)
    # the same product from swapped-axes views (what a transposing op hands the backend)
    va = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    vb = np.swapaxes(np.ascontiguousarray(np.swapaxes(b, -1, -2)), -1, -2)
    record("matmul", case + " views", kernels.matmul(va, vb, ta, tb), want)

# -- convolution (channels-last, padded input), its input and kernel gradients
CONVS = [  # (x shape, kernel shape, strides, dilation)
    ((2, 28, 28, 1), (5, 5, 1, 32), (1, 1), (1, 1)),
    ((3, 12, 12, 32), (5, 5, 32, 64), (1, 1), (1, 1)),
    ((1, 7, 9, 3), (3, 3, 3, 5), (2, 2), (1, 1)),
    ((2, 13, 11, 4), (3, 2, 4, 7), (1, 3), (2, 1)),
    ((2, 17, 19, 5), (4, 3, 5, 6), (3, 2), (1, 2)),
    ((1, 5, 5, 1), (1, 1, 1, 1), (1, 1), (1, 1)),
    ((3, 7, 6, 17), (1, 1, 17, 33), (1, 1), (1, 1)),
    ((2, 9, 9, 5), (1, 1, 5, 3), (2, 2), (1, 1)),
    ((3, 1031, 5), (1, 5, 7), (1,), (1,)),
    ((1, 5, 7, 2), (5, 7, 2, 3), (1, 1), (1, 1)),
    ((5, 9, 9, 13), (2, 2, 13, 1031), (2, 2), (1, 1)),
    ((4, 31, 3), (5, 3, 8), (2,), (1,)),
    ((2, 1031, 2), (7, 2, 3), (1,), (3,)),
]
# groups=1 forward both ways: im2col + GEMM (also in chunks of images), and the implicit GEMM
PATHS = [  # (kernel, im2col chunking, MAX_DIRECT_DEPTH, MAX_PATCH_FLOATS)
    ("conv", "", 0, 1 << 22), ("conv", " chunked", 0, 500), ("conv direct", "", 1 << 30, 0)]
for name, chunking, depth, patch_floats in PATHS:
    wasm_conv.MAX_DIRECT_DEPTH, wasm_conv.MAX_PATCH_FLOATS = depth, patch_floats
    for x_shape, k_shape, strides, dilation in CONVS:
        case = f"x{x_shape} k{k_shape} s{strides} d{dilation}{chunking}"
        x, kernel = f32(*x_shape), f32(*k_shape)
        y64 = reference.conv(x.astype(np.float64), kernel.astype(np.float64), strides, dilation, 1)
        record(name, case, kernels.conv(x, kernel, strides, dilation, 1), y64)
        if name == "conv direct":  # the gradients take the im2col path whatever the depth
            continue
        g = f32(*y64.shape)
        want = reference.conv_input_grad(g.astype(np.float64), kernel.astype(np.float64), x_shape,
                                         strides, dilation, 1)
        record("conv_input_grad", case,
               kernels.conv_input_grad(g, kernel, x_shape, strides, dilation, 1), want)
        want = reference.conv_kernel_grad(x.astype(np.float64), g.astype(np.float64), k_shape,
                                          strides, dilation, 1)
        record("conv_kernel_grad", case,
               kernels.conv_kernel_grad(x, g, k_shape, strides, dilation, 1), want)
wasm_conv.MAX_PATCH_FLOATS, wasm_conv.MAX_DIRECT_DEPTH = saved[4:]

# -- grouped and depthwise convolution (kernel (..., channels / groups, filters)): forward, and
# both gradients where the kernel's input has one channel per group (depthwise, multiplier m)
GROUPED = [  # (x shape, kernel shape, strides, dilation, groups)
    ((2, 9, 11, 6), (3, 3, 2, 9), (1, 1), (1, 1), 3),
    ((3, 13, 7, 8), (3, 2, 4, 10), (2, 1), (1, 2), 2),
    ((2, 50, 12), (3, 4, 6), (1,), (1,), 3),
    ((1, 6, 6, 1031), (2, 2, 1, 1031), (1, 1), (1, 1), 1031),
    ((2, 17, 19, 13), (3, 3, 1, 13), (1, 1), (1, 1), 13),
    ((2, 15, 12, 5), (3, 3, 1, 10), (2, 2), (1, 2), 5),
    ((1, 8, 8, 4), (2, 2, 1, 12), (1, 1), (1, 1), 4),
    ((3, 1031, 7), (5, 1, 7), (1,), (1,), 7),
    ((2, 5, 5, 17), (1, 1, 1, 17), (1, 1), (1, 1), 17),
    ((1, 3, 3, 1), (3, 3, 1, 1), (1, 1), (1, 1), 1),
    ((4, 30, 30, 32), (3, 3, 1, 32), (2, 2), (1, 1), 32),
]
for x_shape, k_shape, strides, dilation, groups in GROUPED:
    depthwise = k_shape[-2] == 1 and groups > 1
    name = "depthwise conv" if depthwise else "grouped conv"
    case = f"x{x_shape} k{k_shape} s{strides} d{dilation} groups={groups}"
    x, kernel = f32(*x_shape), f32(*k_shape)
    x64, k64 = x.astype(np.float64), kernel.astype(np.float64)
    y64 = reference.conv(x64, k64, strides, dilation, groups)
    record(name, case, kernels.conv(x, kernel, strides, dilation, groups), y64)
    if not depthwise:
        continue
    g = f32(*y64.shape)
    g64 = g.astype(np.float64)
    record("depthwise conv_input_grad", case,
           kernels.conv_input_grad(g, kernel, x_shape, strides, dilation, groups),
           reference.conv_input_grad(g64, k64, x_shape, strides, dilation, groups))
    record("depthwise conv_kernel_grad", case,
           kernels.conv_kernel_grad(x, g, k_shape, strides, dilation, groups),
           reference.conv_kernel_grad(x64, g64, k_shape, strides, dilation, groups))
# a strided (non-contiguous) input view
x = f32(2, 30, 30, 3)[:, ::2, 1::2]
kernel = f32(3, 3, 3, 4)
record("conv", "strided view", kernels.conv(x, kernel, (1, 1), (1, 1), 1),
       reference.conv(x.astype(np.float64), kernel.astype(np.float64), (1, 1), (1, 1), 1))
kernel = f32(3, 3, 1, 3)
record("depthwise conv", "strided view", kernels.conv(x, kernel, (1, 1), (1, 1), 3),
       reference.conv(x.astype(np.float64), kernel.astype(np.float64), (1, 1), (1, 1), 3))

# -- a Conv2D layer's call in one pass: convolution + bias (+ ReLU), grouped ones too; relu
# against np.maximum of the float64 sum
for x_shape, k_shape, strides, dilation, groups in [c + (1,) for c in CONVS] + [
        g for g in GROUPED if not (g[1][-2] == 1 and g[4] > 1)]:
    x, kernel, bias = f32(*x_shape), f32(*k_shape), f32(k_shape[-1])
    y64 = reference.conv(x.astype(np.float64), kernel.astype(np.float64), strides, dilation,
                         groups) + bias
    for relu in (False, True):
        record("conv bias relu", f"x{x_shape} k{k_shape} s{strides} groups={groups} relu={relu}",
               kernels.conv_bias_relu(x, kernel, strides, dilation, groups, bias, relu),
               np.maximum(y64, 0) if relu else y64)
# a NaN in the input comes out of the fused ReLU as NaN, as from np.maximum
x, kernel, bias = f32(2, 9, 9, 1), f32(3, 3, 1, 16), f32(16)
x[0, 4, 4, 0] = x[1, 0, 8, 0] = np.nan
record("conv bias relu", "NaN in x, relu=True",
       np.nan_to_num(kernels.conv_bias_relu(x, kernel, (1, 1), (1, 1), 1, bias, True), nan=1e3),
       np.nan_to_num(np.maximum(reference.conv(x.astype(np.float64), kernel.astype(np.float64),
                                               (1, 1), (1, 1), 1) + bias, 0), nan=1e3))

# -- the element-wise passes after a layer's product: ReLU (NaN stays NaN) and bias addition
for shape in [(1,), (7,), (1031,), (3, 1000, 17), (2, 26, 26, 16)]:
    x = f32(*shape)
    if x.size > 10:
        x.reshape(-1)[::5] = np.nan
    record("relu", f"{shape}", np.nan_to_num(kernels.relu(x), nan=1e3),
           np.nan_to_num(np.maximum(x.astype(np.float64), 0), nan=1e3))
for x_shape, b_shape in [((1, 1), (1,)), ((5, 7), (7,)), ((1031, 3), (1, 3)),
                         ((2, 3, 4, 1031), (1031,)), ((32, 26, 26, 16), (16,)), ((13,), (13,))]:
    x, bias = f32(*x_shape), f32(*b_shape)
    record("add_bias", f"x{x_shape} + b{b_shape}", kernels.add_bias(x, bias),
           x.astype(np.float64) + bias)

# -- pooling, forward and gradient; small integers make ties in max windows
POOLS = [  # (x shape, pool size, strides, pads)
    ((2, 24, 24, 32), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((1, 7, 9, 3), (3, 3), (2, 2), ((1, 1), (1, 1))),
    ((1, 5, 6, 1), (2, 3), (1, 2), ((0, 1), (1, 1))),
    ((3, 13, 11, 5), (3, 2), (3, 1), ((1, 0), (0, 1))),
    ((2, 8, 8, 1031), (2, 2), (2, 2), ((0, 0), (0, 0))),
    ((2, 7, 7, 6), (2, 2), (2, 2), ((0, 1), (0, 1))),  # 2x2 windows, clipped at the edge
    ((3, 17, 5), (3,), (2,), ((1, 1),)),
    ((1, 1031, 2), (4,), (3,), ((0, 2),)),
]
for (x_shape, size, strides, pads), mode, ties in itertools.product(POOLS, ("max", "avg"),
                                                                     (False, True)):
    case = f"{mode} x{x_shape} p{size} s{strides} pads{pads}" + (" ties" if ties else "")
    x = rng.integers(0, 3, x_shape).astype(np.float32) if ties else f32(*x_shape)
    y = reference.pool(x, mode, size, strides, pads)
    record("pool", case, kernels.pool(x, mode, size, strides, pads),
           reference.pool(x.astype(np.float64), mode, size, strides, pads))
    g = f32(*y.shape)
    want = reference.pool_grad(x.astype(np.float64), y.astype(np.float64), g.astype(np.float64),
                               mode, size, strides, pads)
    record("pool_grad", case, kernels.pool_grad(x, y, g, mode, size, strides, pads), want)
# a NaN in a max window comes out as NaN, as in NumPy: at each of a 2x2 window's four places,
# in vector lanes (channels 0-3) and the scalar tail (4-5)
x = f32(2, 6, 6, 6)
x[0, 0, 0, 0] = x[1, 2, 3, 3] = x[0, 1, 2, 1] = x[1, 5, 5, 2] = x[0, 4, 4, 5] = np.nan
no_padding = ((0, 0),) * 2
record("pool", "max with NaN",
       np.nan_to_num(kernels.pool(x, "max", (2, 2), (2, 2), no_padding), nan=1e3),
       np.nan_to_num(reference.pool(x, "max", (2, 2), (2, 2), no_padding), nan=1e3))

# -- Adam: a few steps of the fused update against the NumPy path on copies of the same state
for shape, lr in [((1,), 1e-3), ((7, 3), 0.01), ((1031,), 1e-3), ((784, 128), 1e-3),
                  ((100003,), 0.1)]:
    state = [f32(*shape), np.zeros(shape, np.float32), np.zeros(shape, np.float32)]
    mine = [a.copy() for a in state]
    for step in range(1, 4):
        grad = f32(*shape)
        reference.adam_update(*state[:1], grad, *state[1:], lr, 0.9, 0.999, 1e-7, step)
        assert kernels.adam_update(mine[0], grad, mine[1], mine[2], lr, 0.9, 0.999, 1e-7, step)
    for name, got, want in zip(("var", "m", "v"), mine, state):
        record("adam_update", f"{shape} lr={lr} {name}", got, want)

# -- SGD, plain, with momentum and Nesterov's: a few steps, in place, against the NumPy path
for (shape, lr), (momentum, nesterov) in itertools.product(
        [((1,), 0.1), ((7, 3), 0.01), ((1031,), 1e-3), ((1024, 500), 0.01)],
        [(0.0, False), (0.9, False), (0.9, True)]):
    state = [f32(*shape), np.zeros(shape, np.float32) if momentum else None]
    mine = [None if a is None else a.copy() for a in state]
    for _ in range(3):
        grad = f32(*shape)
        reference.sgd_update(state[0], grad, state[1], lr, momentum, nesterov)
        assert kernels.sgd_update(mine[0], grad, mine[1], lr, momentum, nesterov)
    for name, got, want in zip(("var", "velocity"), mine, state):
        if want is not None:
            record("sgd_update", f"{shape} lr={lr} m={momentum} nesterov={nesterov} {name}",
                   got, want)
        if want is not None and not np.array_equal(got, want):  # same operations, same bits
            results["sgd_update"].setdefault("failures", []).append(f"{shape} {name} bits")

# -- a ReLU's gradient from its output; g * mask, so inf/NaN g where y <= 0 gives NaN as in NumPy
for shape in [(1,), (7,), (1031,), (3, 1000, 17), (32, 24, 24, 32)]:
    g, y = f32(*shape), np.maximum(f32(*shape), 0)
    if y.size > 10:
        y.reshape(-1)[::7] = np.nan
        g.reshape(-1)[3::11] = np.inf
    want = g * reference.cast(reference.binary("greater", y, np.float32(0)), "float32")
    got = kernels.relu_grad(g, y)
    record("relu_grad", f"{shape}", np.nan_to_num(got, nan=1e3, posinf=2e3),
           np.nan_to_num(want.astype(np.float64), nan=1e3, posinf=2e3))
    if got is not None and not np.array_equal(got, want, equal_nan=True):
        results["relu_grad"].setdefault("failures", []).append(f"{shape} bits")

# -- the sum over leading axes (a bias's gradient): rows added in NumPy's order, the same bits
SUMS = [((1, 1), 0, False), ((5, 7), (0,), True), ((1031, 3), 0, False),
        ((2, 3, 4, 1031), (0, 1, 2), False), ((32, 24, 24, 32), (0, 1, 2), True),
        ((32, 8, 8, 64), (2, 0, 1), False), ((4, 5, 6), (-3, -2), False)]
for shape, axis, keepdims in SUMS:
    x = f32(*shape)
    want = reference.reduce("sum", x, axis, keepdims)
    got = kernels.sum_leading(x, axis, keepdims)
    record("sum_leading", f"{shape} axis={axis} keepdims={keepdims}", got,
           reference.reduce("sum", x.astype(np.float64), axis, keepdims))
    if got is not None and not np.array_equal(got, want):
        results["sum_leading"].setdefault("failures", []).append(f"{shape} {axis} bits")

# what they leave to NumPy: other broadcasts, strided views, other dtypes; grouped gradients
x = f32(6, 8)
refused = {"add_bias (6, 1)": kernels.add_bias(x, f32(6, 1)),
           "conv_bias_relu depthwise": kernels.conv_bias_relu(
               f32(1, 5, 5, 3), f32(3, 3, 1, 3), (1, 1), (1, 1), 3, f32(3), True),
           "add_bias (1, 6, 8)": kernels.add_bias(x, f32(1, 6, 8)),
           "relu view": kernels.relu(x[:, ::2]), "relu float64": kernels.relu(x.astype(np.float64)),
           "relu_grad view": kernels.relu_grad(x[:, ::2], x[:, ::2]),
           "relu_grad shapes": kernels.relu_grad(x, x[:3]),
           "sum_leading last axis": kernels.sum_leading(x, 1, False),
           "sum_leading every axis": kernels.sum_leading(x, (0, 1), False),
           "sum_leading None": kernels.sum_leading(x, None, False),
           "sum_leading middle": kernels.sum_leading(f32(3, 4, 5), 1, False),
           "sgd_update float64": kernels.sgd_update(x.astype(np.float64), x.astype(np.float64),
                                                    None, 0.1, 0.0, False),
           "grouped conv_input_grad": kernels.conv_input_grad(
               f32(2, 7, 9, 9), f32(3, 3, 2, 9), (2, 9, 11, 6), (1, 1), (1, 1), 3)}
results["refused"] = {"cases": len(refused), "max_rel_err": 0.0,
                      "failures": [name for name, out in refused.items() if out is not None]}

(wasm_kernels.MIN_GEMM_WORK, wasm_kernels.MIN_UPDATE_SIZE, wasm_kernels.MIN_ELEMENTWISE,
 wasm_conv.MIN_CONV_WORK, wasm_conv.MAX_PATCH_FLOATS, wasm_conv.MAX_DIRECT_DEPTH) = saved
json.dumps({"module": kernels.path, "kernels": results})
