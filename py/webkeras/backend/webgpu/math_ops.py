"""The math primitives of `keras.ops` on the WebGPU backend: rounding, trig, log1p/expm1,
isnan/isinf (element-wise kernels, bodies in the tables below) and argsort (on the host: no
sort kernel yet).

Bodies follow the element-wise template's conventions (kernels/elementwise.wgsl): an
expression over `a`, with any helper functions it calls. They live here rather than in
kernels/__init__.py's FLOAT_UNARY because they need helpers (range reduction, Kahan's log1p
and expm1) that the plain table has no slot for.
"""

from webkeras.backend.webgpu import layout

# sin/cos of large arguments (positional encodings reach thousands of radians) lose all
# precision on GPUs that evaluate them by a short polynomial: reduce to [-pi, pi] first, by
# 2*pi split in three (Cody-Waite: k * C1 and k * C2 are exact for |k| < 4096).
_REDUCE_ANGLE = """fn reduce_angle(a: f32) -> f32 {
    let k = round(a * 0.15915493667125702);
    return ((a - k * 6.28125) - k * 0.0019354820251464844) + k * 1.7484555314695172e-07;
}
"""
# WGSL's log is only accurate to 2**-21 absolute near 1 (so is exp - 1 near 0): below |a| of
# 0.5, series instead. log1p: 2 atanh(s), s = a / (2 + a), |s| <= 1/3; expm1: Taylor to a^10.
_LOG1P = """fn log1p_f32(a: f32) -> f32 {
    if (a <= -1.0) {
        // WGSL leaves log of <= 0 undefined; NumPy gives -inf at -1 and NaN below.
        return select(bitcast<f32>(0x7fc00000u), bitcast<f32>(0xff800000u), a == -1.0);
    }
    if (abs(a) >= 0.5) {
        return log(1.0 + a);
    }
    let s = a / (2.0 + a);
    let s2 = s * s;
    let p = 1.0 / 13.0 + s2 * (1.0 / 15.0 + s2 * (1.0 / 17.0 + s2 * (1.0 / 19.0)));
    let q = 1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0 + s2 * p)));
    return 2.0 * s + 2.0 * s * s2 * (1.0 / 3.0 + s2 * q);
}
"""
_EXPM1 = """fn expm1_f32(a: f32) -> f32 {
    if (abs(a) >= 0.5) {
        return exp(a) - 1.0;
    }
    let p = 1.0 / 5040.0 + a * (1.0 / 40320.0 + a * (1.0 / 362880.0 + a * (1.0 / 3628800.0)));
    let q = 1.0 / 6.0 + a * (1.0 / 24.0 + a * (1.0 / 120.0 + a * (1.0 / 720.0 + a * p)));
    return a + a * a * (0.5 + a * q);
}
"""
# Some drivers' asin is off by 3e-4 (llvmpipe, measured); their atan is within 3e-6. WGSL's
# sqrt of a negative number is undefined: outside [-1, 1] return NaN explicitly.
_ARCSIN = """fn arcsin_f32(a: f32) -> f32 {
    if (abs(a) > 1.0) {
        return bitcast<f32>(0x7fc00000u);
    }
    return atan2(a, sqrt((1.0 - a) * (1.0 + a)));
}
"""
#: op -> (f32 expression over `a`, helper functions).
MATH_UNARY = {
    "floor": ("floor(a)", ""),
    "ceil": ("ceil(a)", ""),
    # WGSL's round() rounds halves to even, as NumPy's does.
    "round": ("round(a)", ""),
    "sin": ("sin(reduce_angle(a))", _REDUCE_ANGLE),
    "cos": ("cos(reduce_angle(a))", _REDUCE_ANGLE),
    "arcsin": ("arcsin_f32(a)", _ARCSIN),
    "arctan": ("atan(a)", ""),
    "log1p": ("log1p_f32(a)", _LOG1P),
    "expm1": ("expm1_f32(a)", _EXPM1),
}


# Bit tests: compilers may assume floats are never NaN and fold `a != a` to false (measured).
_CLASSIFY = {
    "isnan": "select(0u, 1u, (bitcast<u32>(a) & 0x7fffffffu) > 0x7f800000u)",
    "isinf": "select(0u, 1u, (bitcast<u32>(a) & 0x7fffffffu) == 0x7f800000u)",
}


class MathKernels:
    """`unary` for MATH_UNARY_OPS, isnan and isinf as kernels on `gpu` (the WebGPU backend
    that holds them)."""

    def __init__(self, gpu):
        self.gpu = gpu

    def unary(self, op, x):
        body, helpers = MATH_UNARY[op]
        if x.dtype != "float32":
            # As the NumPy backend's astype of a float result: compute in f32, convert back.
            helpers += f"fn float_op(a: f32) -> f32 {{ return {body}; }}\n"
            body = ("i32(float_op(f32(a)))" if x.dtype == "int32"
                    else "u32(float_op(f32(a)) != 0.0)")
        inputs = [(x, layout.contiguous_strides(x.shape))]
        return self.gpu.map_kernel(body, x.dtype, inputs, x.shape, helpers=helpers)

    def _classify(self, kind, x):
        inputs = [(x, layout.contiguous_strides(x.shape))]
        return self.gpu.map_kernel(_CLASSIFY[kind], "bool", inputs, x.shape)

    def isnan(self, x):
        return self._classify("isnan", x)

    def isinf(self, x):
        return self._classify("isinf", x)
