"""keras.ops coverage (issue #14): the ops Keras tutorials call, against NumPy, through the
public API (`import webkeras as keras`), over a few shapes each."""

import numpy as np
import pytest

import webkeras as keras

ops = keras.ops


pytestmark = pytest.mark.usefixtures("numpy_backend")


rng = np.random.default_rng(3)
SHAPES = [(5,), (3, 4), (2, 3, 5)]


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def check(got, want, tol=1e-5):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w, tol)
        return
    got = ops.convert_to_numpy(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# -- element-wise ------------------------------------------------------------------------------
UNARY = {
    # name: (numpy reference, input range)
    "floor": (np.floor, (-3, 3)), "ceil": (np.ceil, (-3, 3)), "trunc": (np.trunc, (-3, 3)),
    "sin": (np.sin, (-9, 9)), "cos": (np.cos, (-9, 9)), "tan": (np.tan, (-1.2, 1.2)),
    "arcsin": (np.arcsin, (-0.99, 0.99)), "arccos": (np.arccos, (-0.99, 0.99)),
    "arctan": (np.arctan, (-5, 5)), "sinh": (np.sinh, (-3, 3)), "cosh": (np.cosh, (-3, 3)),
    "arcsinh": (np.arcsinh, (-5, 5)), "arccosh": (np.arccosh, (1.01, 5)),
    "arctanh": (np.arctanh, (-0.95, 0.95)), "log1p": (np.log1p, (-0.9, 5)),
    "expm1": (np.expm1, (-3, 3)), "log2": (np.log2, (0.1, 9)), "log10": (np.log10, (0.1, 9)),
    "exp2": (np.exp2, (-3, 3)), "rsqrt": (lambda x: 1 / np.sqrt(x), (0.1, 9)),
    "cbrt": (np.cbrt, (-8, 8)), "deg2rad": (np.deg2rad, (-360, 360)),
    "rad2deg": (np.rad2deg, (-4, 4)), "sign": (np.sign, (-3, 3)), "signbit": (np.signbit, (-3, 3)),
    "square": (np.square, (-3, 3)), "sqrt": (np.sqrt, (0, 9)),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_math(name, shape):
    reference, (low, high) = UNARY[name]
    x = r(*shape, low=low, high=high)
    check(getattr(ops, name)(x), reference(x), tol=2e-5)


def test_round_halves_to_even_and_decimals():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345, -7.777], np.float32)
    check(ops.round(x), np.round(x))
    check(ops.round(x, 2), np.round(x, 2))
    check(ops.round(np.array([1234, -5678], np.int32), -2), np.array([1200, -5700]))


def test_large_angles_keep_their_precision():
    # Sinusoidal position encodings reach thousands of radians.
    x = np.linspace(-5000, 5000, 101).astype(np.float32)
    check(ops.sin(x), np.sin(x.astype(np.float64)), tol=1e-4)


BINARY = {
    "arctan2": np.arctan2, "hypot": np.hypot, "logaddexp": np.logaddexp,
    "logaddexp2": np.logaddexp2, "floor_divide": np.floor_divide, "mod": np.mod,
    "heaviside": np.heaviside, "maximum": np.maximum, "minimum": np.minimum,
    "power": lambda a, b: np.power(np.abs(a), b),
}


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5))])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_math(name, shapes):
    a, b = r(*shapes[0]), r(*shapes[1])
    b = np.where(np.abs(b) < 0.1, 0.5, b)
    if name == "power":
        check(ops.power(ops.abs(a), b), BINARY[name](a, b), tol=1e-4)
        return
    check(getattr(ops, name)(a, b), BINARY[name](a, b), tol=1e-4)


def test_arctan2_on_the_axes():
    y = np.array([0.0, 1, -1, 0, 2, -2, 1], np.float32)
    x = np.array([0.0, 0, 0, -1, -1, -1, 1], np.float32)
    check(ops.arctan2(y, x), np.arctan2(y, x))


def test_integer_floor_divide_and_mod_follow_python():
    a = np.array([7, -7, 7, -7, 0, 9], np.int32)
    b = np.array([2, 2, -2, -2, 5, 3], np.int32)
    assert ops.mod(a, b).dtype == ops.floor_divide(a, b).dtype == "int32"
    check(ops.floor_divide(a, b), a // b)
    check(ops.mod(a, b), a % b)


def test_nan_and_infinity_tests():
    x = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0, 3e38], np.float32)
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        check(getattr(ops, name)(x), getattr(np, name)(x))
    check(ops.nan_to_num(x), np.nan_to_num(x))
    check(ops.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0),
          np.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0))
    check(ops.isfinite(np.arange(3)), np.ones(3, bool))
    check(ops.isclose(x, x + 1e-7, equal_nan=True), np.isclose(x, x + 1e-7, equal_nan=True))


def test_logical_ops():
    a, b = r(3, 4) > 0, r(4) > 0
    for name in ("logical_and", "logical_or", "logical_xor"):
        check(getattr(ops, name)(a, b), getattr(np, name)(a, b))
    check(ops.logical_not(a), ~a)
    check(ops.logical_and(np.array([0, 2]), np.array([3, 3])), np.array([False, True]))


# -- creation ----------------------------------------------------------------------------------
def test_arange_dtypes_and_forms():
    check(ops.arange(5), np.arange(5))
    assert ops.arange(5).dtype == "int32"
    check(ops.arange(start=0, stop=10, step=3), np.arange(0, 10, 3))
    check(ops.arange(1.0, 2.0, 0.25), np.arange(1.0, 2.0, 0.25))
    assert ops.arange(1.0, 2.0, 0.25).dtype == "float32"
    check(ops.arange(5, 0, -2, dtype="float32"), np.arange(5, 0, -2, dtype=np.float32))
    check(ops.arange(ops.convert_to_tensor(4)), np.arange(4))


def test_linspace_logspace():
    check(ops.linspace(0, 1, 5), np.linspace(0, 1, 5))
    check(ops.linspace(-1, 1, 4, endpoint=False), np.linspace(-1, 1, 4, endpoint=False))
    start, stop = np.array([0.0, 1.0], np.float32), np.array([1.0, 3.0], np.float32)
    check(ops.linspace(ops.convert_to_tensor(start), stop, 4, axis=1),
          np.linspace(start, stop, 4, axis=1))
    values, step = ops.linspace(0, 2, 5, retstep=True)
    assert step == 0.5
    check(ops.logspace(0, 2, 3), np.logspace(0, 2, 3), tol=1e-4)


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (3, 4, 1), (4, 2, -1)])
def test_eye_tri(n, m, k):
    check(ops.eye(n, m, k), np.eye(n, m, k))
    check(ops.tri(n, m, k), np.tri(n, m, k))
    check(ops.identity(n), np.identity(n))


@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_triu(shape, k):
    x = r(*shape)
    check(ops.tril(x, k), np.tril(x, k))
    check(ops.triu(x, k), np.triu(x, k))


def test_meshgrid():
    a, b, c = np.arange(3), np.arange(4.0), np.arange(2)
    check(ops.meshgrid(a, b), np.meshgrid(a, b))
    check(ops.meshgrid(a, b, c), np.meshgrid(a, b, c))
    check(ops.meshgrid(a, b, c, indexing="ij"), np.meshgrid(a, b, c, indexing="ij"))


def test_diagonals_and_trace():
    x = r(3, 4)
    for k in (-2, 0, 1):
        check(ops.diag(x, k), np.diag(x, k))
        check(ops.diag(x[0], k), np.diag(x[0], k))
    y = r(2, 3, 4)
    check(ops.diagonal(y, 1, 1, 2), np.diagonal(y, 1, 1, 2))
    check(ops.trace(y, 0, 0, 2), np.trace(y, 0, 0, 2))
    check(ops.diagflat(x[:2, :2]), np.diagflat(x[:2, :2]))


def test_full_like_empty_copy_array():
    x = r(2, 3)
    check(ops.full_like(x, 7), np.full_like(x, 7))
    check(ops.empty((2, 2)), np.zeros((2, 2)))
    variable = keras.Variable(x)
    copied = ops.copy(variable)
    variable.assign(np.zeros((2, 3)))
    check(copied, x)
    check(ops.array([[1, 2]], dtype="float32"), np.array([[1.0, 2.0]]))


# -- reductions --------------------------------------------------------------------------------
REDUCTIONS = ["prod", "any", "all", "var", "std", "argmin", "argmax", "count_nonzero", "ptp",
              "median", "sum", "mean", "max", "min"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name, shape):
    x = np.round(r(*shape) * 2)  # zeros and ties included
    axes = [None, 0, -1] + ([(0, 2)] if len(shape) == 3 else [])
    for axis in axes:
        if name in ("argmin", "argmax", "count_nonzero") and isinstance(axis, tuple):
            continue
        check(getattr(ops, name)(x, axis=axis), getattr(np, name)(x, axis=axis), tol=1e-5)
        if name not in ("count_nonzero", "median"):
            check(getattr(ops, name)(x, axis=axis, keepdims=True),
                  getattr(np, name)(x, axis=axis, keepdims=True), tol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_scans_and_logsumexp(shape):
    x = r(*shape)
    for axis in (None, 0, -1):
        check(ops.cumsum(x, axis=axis), np.cumsum(x, axis=axis), tol=1e-5)
        check(ops.cumprod(x, axis=axis), np.cumprod(x, axis=axis), tol=1e-5)
        shift = np.max(x, axis=axis, keepdims=True)
        want = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
        check(ops.logsumexp(x, axis=axis, keepdims=True), want, tol=1e-5)
    check(ops.cumsum(np.array([True, False, True])), np.array([1, 1, 2]))
    check(ops.logsumexp(np.array([-np.inf, -np.inf], np.float32)), -np.inf)


def test_quantile_average():
    x = r(4, 5)
    check(ops.quantile(x, [0.1, 0.5, 0.9], axis=1), np.quantile(x, [0.1, 0.5, 0.9], axis=1))
    for method in ("lower", "higher", "midpoint", "nearest"):
        check(ops.quantile(x, 0.3, axis=0, method=method, keepdims=True),
              np.quantile(x, 0.3, axis=0, method=method, keepdims=True))
    w = r(5, low=0.1, high=1.0)
    check(ops.average(x, axis=1, weights=w), np.average(x, axis=1, weights=w))
    check(ops.average(x), np.average(x))


# -- sorting and selection ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_sort_argsort_top_k(shape):
    x = np.round(r(*shape) * 2)  # ties: both must keep index order
    for axis in (0, -1):
        check(ops.sort(x, axis=axis), np.sort(x, axis=axis))
        check(ops.argsort(x, axis=axis), np.argsort(x, axis=axis, kind="stable"))
    k = min(3, shape[-1])
    values, indices = ops.top_k(x, k)
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    check(indices, order)
    check(values, np.take_along_axis(x, order, -1))


def test_in_top_k_nonzero_searchsorted_bincount():
    predictions = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]], np.float32)
    check(ops.in_top_k([2, 0], predictions, 1), np.array([False, False]))
    check(ops.in_top_k([2, 1], predictions, 2), np.array([True, True]))  # ties are in
    x = r(3, 4) > 0
    check(ops.nonzero(x), np.nonzero(x))
    check(ops.where(x), np.nonzero(x))
    seq, v = np.array([1.0, 2, 2, 3]), np.array([0.5, 2, 2.5, 4])
    check(ops.searchsorted(seq, v), np.searchsorted(seq, v))
    check(ops.searchsorted(seq, v, side="right"), np.searchsorted(seq, v, side="right"))
    check(ops.digitize(v, np.array([1.0, 2, 3])), np.digitize(v, [1.0, 2, 3]))
    ids = np.array([0, 1, 1, 4])
    check(ops.bincount(ids), np.bincount(ids))
    w = np.array([0.5, 1, 2, 3], np.float32)
    check(ops.bincount(ids, weights=w, minlength=7), np.bincount(ids, w, 7))
    check(ops.bincount(np.array([[0, 1], [2, 2]])), np.array([[1, 1, 0], [0, 0, 2]]))


# -- arrangement -------------------------------------------------------------------------------
def test_arrangement():
    x, y = r(3, 4), r(4)
    check(ops.roll(x, 1, axis=1), np.roll(x, 1, axis=1))
    check(ops.roll(x, -5), np.roll(x, -5))
    check(ops.roll(x, (1, 2), axis=(0, 1)), np.roll(x, (1, 2), axis=(0, 1)))
    for k in range(4):
        check(ops.rot90(x, k), np.rot90(x, k))
    check(ops.array_split(np.arange(7), 3), np.array_split(np.arange(7), 3))
    check(ops.hstack([x, x]), np.hstack([x, x]))
    check(ops.vstack([y, y]), np.vstack([y, y]))
    check(ops.dstack([x, x]), np.dstack([x, x]))
    check(ops.append(x, y), np.append(x, y))
    check(ops.ravel(x), np.ravel(x))
    assert ops.ndim(x) == 2
    check(ops.unravel_index(np.array([5, 11]), (3, 4)), np.unravel_index([5, 11], (3, 4)))
    check(ops.expand_dims(x, (0, -1)), np.expand_dims(x, (0, -1)))
    check(ops.repeat(x, [1, 0, 2], axis=0), np.repeat(x, [1, 0, 2], axis=0))
    check(ops.swapaxes(x, 0, 1), np.swapaxes(x, 0, 1))
    check(ops.flip(x, 0), np.flip(x, 0))
    check(ops.tile(y, 2), np.tile(y, 2))
    check(ops.split(x, 2, axis=1), np.split(x, 2, axis=1))
    check(ops.unstack(x), list(x))
    check(ops.squeeze(x[None]), x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "edge", "wrap"])
def test_pad_modes(mode):
    x = r(3, 4)
    check(ops.pad(x, [(2, 1), (1, 3)], mode=mode), np.pad(x, [(2, 1), (1, 3)], mode=mode))


def test_take_along_axis():
    x = r(3, 4)
    check(ops.take_along_axis(x, np.argsort(x, 1), 1),
          np.take_along_axis(x, np.argsort(x, 1), 1))
    index = np.array([[2, 0, 1, -1]])
    check(ops.take_along_axis(x, index, 0), np.take_along_axis(x, index, 0))
    check(ops.take_along_axis(x, np.array([0, 5]), None), x.reshape(-1)[[0, 5]])


# -- contractions and norms --------------------------------------------------------------------
EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(3, 4)]), ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]), ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("btnh,bsnh->bnts", [(2, 3, 4, 5), (2, 6, 4, 5)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("iij->ji", [(3, 3, 2)]), ("abc,cd->", [(2, 3, 4), (4, 2)]), ("i,i", [(4,), (4,)]),
    ("ba", [(2, 3)]), ("bi,bi->b", [(1, 3), (4, 3)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum(subscripts, shapes):
    arrays = [r(*s) for s in shapes]
    check(ops.einsum(subscripts, *arrays), np.einsum(subscripts, *arrays), tol=1e-4)


def test_products():
    a, b = r(2, 3, 4), r(4, 3, 5)
    check(ops.tensordot(a, b, ([1, 2], [1, 0])), np.tensordot(a, b, ([1, 2], [1, 0])), 1e-4)
    check(ops.tensordot(a, b, 1), np.tensordot(a, b, 1), 1e-4)
    x, y = r(3, 4), r(4)
    check(ops.outer(x, y), np.outer(x, y))
    check(ops.inner(x, y), np.inner(x, y), 1e-5)
    check(ops.vdot(x, x), np.vdot(x, x), 1e-4)
    check(ops.kron(x, x[:2, :2]), np.kron(x, x[:2, :2]))
    u, v = r(5, 3), r(5, 3)
    check(ops.cross(u, v), np.cross(u, v))
    check(ops.einsum("ij,jk->ik", np.arange(6).reshape(2, 3), np.arange(3).reshape(3, 1)),
          np.arange(6).reshape(2, 3) @ np.arange(3).reshape(3, 1))


@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, -np.inf, 0, 3])
def test_vector_norms(ord):
    x = r(3, 4)
    check(ops.norm(x, ord=ord, axis=1), np.linalg.norm(x, ord=ord, axis=1))
    check(ops.norm(x, ord=ord, axis=0, keepdims=True),
          np.linalg.norm(x, ord=ord, axis=0, keepdims=True))


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf])
def test_matrix_norms(ord):
    x = r(2, 3, 4)
    check(ops.norm(x, ord=ord, axis=(1, 2)), np.linalg.norm(x, ord=ord, axis=(1, 2)))
    check(ops.norm(x[0], ord=ord, keepdims=True), np.linalg.norm(x[0], ord=ord, keepdims=True))
    check(ops.linalg.norm(x), np.linalg.norm(x))


def test_less_common_numpy_ops():
    x = r(3, 6)
    check(ops.diff(x, 2), np.diff(x, 2))
    check(ops.trapezoid(x, dx=0.5), np.trapezoid(x, dx=0.5))
    grid = np.arange(6.0) ** 2
    check(ops.trapezoid(x, x=grid), np.trapezoid(x, x=grid), tol=1e-4)
    holes = x.copy()
    holes[0, 1] = np.nan
    for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod"):
        check(getattr(ops, name)(holes, axis=1), getattr(np, name)(holes, axis=1))
    check(ops.isin(np.array([1, 2, 3]), np.array([3, 1])), [True, False, True])
    check(ops.isin(np.array([1, 2]), np.array([1]), invert=True), [False, True])
    check(ops.select([x > 1, x < -1], [x, -x], 0.5),
          np.select([x > 1, x < -1], [x, -x], 0.5))
    check(ops.ldexp(x, np.array([1, 2, 3, 0, -1, 2])), np.ldexp(x, [1, 2, 3, 0, -1, 2]))
    check(ops.vander(np.arange(1.0, 4.0), 4), np.vander(np.arange(1.0, 4.0), 4))
    check(ops.vander(np.arange(1.0, 4.0), increasing=True),
          np.vander(np.arange(1.0, 4.0), increasing=True))
    check(ops.corrcoef(x), np.corrcoef(x), tol=1e-5)
    for n, m in [(5, 3), (3, 5), (4, 4), (6, 1)]:
        a, v = r(n), r(m)
        for mode in ("valid", "same", "full"):
            check(ops.correlate(a, v, mode), np.correlate(a, v, mode), tol=1e-5)
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        check(getattr(ops, name)(7), getattr(np, name)(7), tol=1e-6)
    check(ops.kaiser(6, 3.0), np.kaiser(6, 3.0), tol=1e-6)
    check(ops.angle(np.array([-1.0, 2.0])), np.angle([-1.0, 2.0]))
    check(ops.real(x), x)
    check(ops.imag(x), np.zeros_like(x))
    check(ops.conj(x), x)
    check(ops.get_item(x, (1, slice(2, None))), x[1, 2:])
    order = ops.argpartition(x, 2, axis=1).numpy()
    parted = np.take_along_axis(x, order, 1)
    assert np.all(parted[:, :2] <= parted[:, 2:3]) and np.all(parted[:, 3:] >= parted[:, 2:3])


def test_sparsemax():
    x = np.array([[1.0, 2.0, 0.1], [0.5, 0.5, 0.5], [3.0, 2.5, -1.0]], np.float32)
    check(ops.sparsemax(x), [[0, 1, 0], [1 / 3, 1 / 3, 1 / 3], [0.75, 0.25, 0]])
    check(ops.sum(ops.sparsemax(r(4, 5), axis=0), axis=0), np.ones(5))
