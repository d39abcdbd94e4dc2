"""Element-wise math (keras.ops names): rounding, trigonometry, logs and exponentials, tests
for NaN and infinity, logical ops, floor division and modulo.

Primitives (with their VJPs here): floor, ceil, round, sin, cos, arcsin, arctan, log1p, expm1
(backend `unary`) and isnan, isinf. The rest is composed from differentiable ops, so its
gradient comes from theirs.
"""

import math

from webkeras.backend import floatx
from webkeras.ops.core import cast, convert_to_tensor, is_float_dtype, make
from webkeras.ops.numpy import (
    _binary_operands, _unary, abs, broadcast_shapes, divide, equal, exp, greater,
    greater_equal, less, log, maximum, minimum, multiply, not_equal, sign, sqrt, square,
    subtract, unbroadcast, where,
)
from webkeras.ops.tape import stop_recording


def _float(x):
    x = convert_to_tensor(x)
    return x if is_float_dtype(x.dtype) else cast(x, floatx())


# -- rounding (no gradient: zero almost everywhere, as in TensorFlow) ---------------------------
def floor(x):
    return _unary("floor", _float(x))


def ceil(x):
    return _unary("ceil", _float(x))


def round(x, decimals=0):
    """Round half to even (as NumPy); `decimals` digits after the point (may be negative)."""
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        if decimals >= 0:
            return x
        scale = 10 ** -decimals
        return cast(_unary("round", _float(x) / float(scale)) * float(scale), x.dtype)
    if decimals == 0:
        return _unary("round", x)
    scale = 10.0 ** decimals
    return _unary("round", x * scale) / scale


def trunc(x):
    """Round toward zero."""
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        return x
    return where(less(x, 0.0), ceil(x), floor(x))


# -- trigonometry ------------------------------------------------------------------------------
def sin(x):
    return _unary("sin", x, lambda g, x, out: g * cos(x))


def cos(x):
    return _unary("cos", x, lambda g, x, out: -g * sin(x))


def tan(x):
    x = _float(x)
    return sin(x) / cos(x)


def arcsin(x):
    return _unary("arcsin", x, lambda g, x, out: g / sqrt(1.0 - square(x)))


def arccos(x):
    return (math.pi / 2) - arcsin(x)


def arctan(x):
    return _unary("arctan", x, lambda g, x, out: g / (1.0 + square(x)))


def arctan2(x1, x2):
    """The angle of the point (x2, x1) in (-pi, pi], element-wise (as numpy.arctan2)."""
    y, x = _binary_operands(x1, x2)
    y, x = _float(y), _float(x)
    x_zero = equal(x, 0.0)
    # The safe divisor keeps the unselected branch (and its gradient) finite.
    ratio = arctan(y / where(x_zero, 1.0, x))
    half_turn = where(greater_equal(y, 0.0), math.pi, -math.pi)
    left = ratio + half_turn
    on_axis = sign(y) * (math.pi / 2)
    return where(greater(x, 0.0), ratio, where(x_zero, on_axis, left))


def sinh(x):
    x = _float(x)
    # expm1 keeps small arguments exact (exp(x) - exp(-x) cancels).
    return (expm1(x) - expm1(-x)) * 0.5


def cosh(x):
    x = _float(x)
    return (exp(x) + exp(-x)) * 0.5


def arcsinh(x):
    x = _float(x)

    def positive(t):
        return log1p(t + square(t) / (1.0 + sqrt(1.0 + square(t))))

    # Odd symmetry; each branch is finite everywhere, so where's VJP stays NaN-free.
    return where(less(x, 0.0), -positive(-x), positive(x))


def arccosh(x):
    x = _float(x)
    shifted = x - 1.0
    return log1p(shifted + sqrt(shifted * (x + 1.0)))


def arctanh(x):
    x = _float(x)
    return (log1p(x) - log1p(-x)) * 0.5


def deg2rad(x):
    return _float(x) * (math.pi / 180.0)


def rad2deg(x):
    return _float(x) * (180.0 / math.pi)


def hypot(x1, x2):
    a, b = _binary_operands(x1, x2)
    return sqrt(square(_float(a)) + square(_float(b)))


# -- logs and exponentials ---------------------------------------------------------------------
def log1p(x):
    return _unary("log1p", x, lambda g, x, out: g / (1.0 + x))


def expm1(x):
    return _unary("expm1", x, lambda g, x, out: g * (out + 1.0))


def log2(x):
    return log(_float(x)) * (1.0 / math.log(2.0))


def log10(x):
    return log(_float(x)) * (1.0 / math.log(10.0))


def exp2(x):
    return exp(_float(x) * math.log(2.0))


def rsqrt(x):
    return 1.0 / sqrt(_float(x))


def cbrt(x):
    x = _float(x)
    return sign(x) * abs(x) ** (1.0 / 3.0)


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)) without overflow; the gradient is sigmoid(x1 - x2) (0.5 at ties)."""
    a, b = _binary_operands(x1, x2)
    a, b = _float(a), _float(b)
    broadcast_shapes(a.shape, b.shape)
    with stop_recording():
        value = maximum(a, b) + log1p(exp(-abs(a - b)))

    def vjp(g, needs):
        from webkeras.ops.nn import sigmoid

        weight = sigmoid(a - b)
        return unbroadcast(g * weight, a.shape), unbroadcast(g * (1.0 - weight), b.shape)

    return make(value.data, (a, b), vjp)


def logaddexp2(x1, x2):
    ln2 = math.log(2.0)
    return logaddexp(_float(x1) * ln2, _float(x2) * ln2) * (1.0 / ln2)


# -- division ----------------------------------------------------------------------------------
def floor_divide(x1, x2):
    """floor(x1 / x2); integers stay integers (exact below 2**24)."""
    a, b = _binary_operands(x1, x2)
    out = floor(divide(a, b))
    return out if is_float_dtype(a.dtype) else cast(out, a.dtype)


def mod(x1, x2):
    """The remainder with the divisor's sign (Python's %, numpy.mod)."""
    a, b = _binary_operands(x1, x2)
    return subtract(a, multiply(floor_divide(a, b), b))


remainder = mod


# -- NaN and infinity --------------------------------------------------------------------------
def _classify(kind, x):
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        from webkeras.ops.numpy import full

        return full(x.shape, False, "bool")
    return make(getattr(x.backend, kind)(x.data))


def isnan(x):
    return _classify("isnan", x)


def isinf(x):
    return _classify("isinf", x)


def isfinite(x):
    return logical_not(logical_or(isnan(x), isinf(x)))


def isposinf(x):
    return logical_and(isinf(x), greater(x, 0))


def isneginf(x):
    return logical_and(isinf(x), less(x, 0))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (default: the dtype's extremes)."""
    x = convert_to_tensor(x)
    if not is_float_dtype(x.dtype):
        return x
    big = 3.4028234663852886e38 if x.dtype != "float64" else 1.7976931348623157e308
    x = where(isnan(x), float(nan), x)
    x = where(isposinf(x), float(big if posinf is None else posinf), x)
    return where(isneginf(x), float(-big if neginf is None else neginf), x)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = _binary_operands(x1, x2)
    a, b = _float(a), _float(b)
    close = logical_or(equal(a, b), abs(a - b) <= atol + rtol * abs(b))
    return logical_or(close, logical_and(isnan(a), isnan(b))) if equal_nan else close


def signbit(x):
    """True where x < 0 (-0.0 reads as not negative here)."""
    return less(convert_to_tensor(x), 0)


def heaviside(x1, x2):
    a, b = _binary_operands(x1, x2)
    a, b = _float(a), _float(b)
    return where(less(a, 0.0), 0.0, where(greater(a, 0.0), 1.0, b))


# -- logical -----------------------------------------------------------------------------------
def _bool(x):
    return cast(convert_to_tensor(x), "bool")


def logical_and(x1, x2):
    return minimum(_bool(x1), _bool(x2))


def logical_or(x1, x2):
    return maximum(_bool(x1), _bool(x2))


def logical_xor(x1, x2):
    return not_equal(_bool(x1), _bool(x2))


def logical_not(x):
    return equal(_bool(x), False)


def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first true condition, else `default`."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices.")
    out = convert_to_tensor(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = where(condition, choice, out)
    return out


def ldexp(x1, x2):
    """x1 * 2**x2."""
    from webkeras.ops.numpy import power

    return multiply(_float(x1), power(2.0, _float(x2)))


# -- complex helpers: webkeras tensors are real ------------------------------------------------
def conjugate(x):
    return convert_to_tensor(x)


conj = conjugate


def real(x):
    return convert_to_tensor(x)


def imag(x):
    from webkeras.ops.numpy import zeros_like

    return zeros_like(x)


def isreal(x):
    from webkeras.ops.numpy import full

    return full(convert_to_tensor(x).shape, True, "bool")


def angle(x):
    """The argument of a real number: pi where it is negative, else 0."""
    x = _float(x)
    zero = x * 0.0
    return where(less(x, 0.0), zero + math.pi, zero)
