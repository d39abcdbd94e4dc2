"""Finite-difference checks of the gradients of the keras.ops added for issue #14 (NumPy
backend, float64), through the public API."""

import numpy as np
import pytest

import webkeras as keras
from webkeras.testing.gradients import check_gradients

ops = keras.ops


pytestmark = pytest.mark.usefixtures("numpy_backend")


rng = np.random.default_rng(11)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def away_from(x, points, gap=0.1):
    """Move entries within `gap` of a kink away from it (finite differences need smoothness)."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap, x)
    return x


UNARY = [
    ("sin", ops.sin, {}), ("cos", ops.cos, {}), ("tan", ops.tan, {"low": -1, "high": 1}),
    ("arcsin", ops.arcsin, {"low": -0.9, "high": 0.9}),
    ("arccos", ops.arccos, {"low": -0.9, "high": 0.9}), ("arctan", ops.arctan, {}),
    ("sinh", ops.sinh, {}), ("cosh", ops.cosh, {}), ("arcsinh", ops.arcsinh, {}),
    ("arccosh", ops.arccosh, {"low": 1.2, "high": 4}),
    ("arctanh", ops.arctanh, {"low": -0.9, "high": 0.9}),
    ("log1p", ops.log1p, {"low": -0.8}), ("expm1", ops.expm1, {}),
    ("log2", ops.log2, {"low": 0.2}), ("log10", ops.log10, {"low": 0.2}),
    ("exp2", ops.exp2, {}), ("rsqrt", ops.rsqrt, {"low": 0.3}),
    ("cbrt", lambda x: ops.cbrt(ops.abs(x) + 0.5), {}), ("deg2rad", ops.deg2rad, {}),
    ("nan_to_num", ops.nan_to_num, {}), ("trunc_plus_x", lambda x: ops.trunc(x) + x, {}),
    ("log_sigmoid", ops.log_sigmoid, {}), ("celu", lambda x: ops.celu(x, 0.7), {}),
    ("sparse_plus", ops.sparse_plus, {}), ("squareplus", ops.squareplus, {}),
    ("soft_shrink", ops.soft_shrink, {}), ("hard_shrink", ops.hard_shrink, {}),
    ("tanh_shrink", ops.tanh_shrink, {}), ("threshold", lambda x: ops.threshold(x, 0.3, -1.0), {}),
    ("hard_tanh", ops.hard_tanh, {}), ("sparse_sigmoid", ops.sparse_sigmoid, {}),
    ("softplus", ops.softplus, {}), ("glu", ops.glu, {}),
    ("softmax_axis0", lambda x: ops.softmax(x, axis=0), {}),
    ("softmax_all", lambda x: ops.softmax(x, axis=None), {}),
    ("log_softmax_axis0", lambda x: ops.log_softmax(x, axis=0), {}),
    ("normalize", ops.normalize, {}), ("normalize_l1", lambda x: ops.normalize(x, order=1), {}),
    ("layer_normalization", ops.layer_normalization, {}),
    ("rms_normalization", ops.rms_normalization, {}),
]
KINKS = [-1.0, -0.5, 0.0, 0.3, 0.5, 1.0]


@pytest.mark.parametrize("name,fn,kw", UNARY, ids=[c[0] for c in UNARY])
def test_unary_gradients(name, fn, kw):
    check_gradients(fn, away_from(r(3, 4, **kw), KINKS if not kw else []))


def test_softplus_gradient_at_zero_is_one_half():
    x = ops.convert_to_tensor(np.zeros(3))
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.softplus(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 0.5)


BINARY = [
    ("arctan2", ops.arctan2), ("hypot", ops.hypot), ("logaddexp", ops.logaddexp),
    ("logaddexp2", ops.logaddexp2), ("mod", lambda a, b: ops.mod(a, ops.abs(b) + 3.0)),
    ("cross", ops.cross), ("outer", ops.outer), ("inner", ops.inner), ("vdot", ops.vdot),
    ("kron", ops.kron),
]


@pytest.mark.parametrize("name,fn", BINARY, ids=[c[0] for c in BINARY])
def test_binary_gradients(name, fn):
    a, b = away_from(r(4, 3), [0.0]), away_from(r(4, 3), [0.0])
    check_gradients(fn, a, b)


def test_logaddexp_gradient_splits_ties():
    check_gradients(ops.logaddexp, np.array([0.5, -1.0]), np.array([0.5, -1.0]))


def _distinct(*shape):
    """Values far enough apart that sorting does not change under finite differences."""
    return rng.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) \
        * 0.37 - 1.0


SHAPED = [
    ("linspace", lambda a, b: ops.linspace(a, b, 5, axis=1), [(3,), (3,)]),
    ("tril", lambda x: ops.tril(x, -1), [(3, 4)]), ("triu", lambda x: ops.triu(x, 1), [(3, 4)]),
    ("diag_1d", lambda x: ops.diag(x, 1), [(3,)]), ("diag_2d", lambda x: ops.diag(x, -1), [(3, 4)]),
    ("diagonal", lambda x: ops.diagonal(x, 1, 0, 2), [(3, 2, 4)]),
    ("trace", ops.trace, [(3, 3)]), ("copy", ops.copy, [(2, 3)]),
    ("prod", lambda x: ops.prod(x, axis=1), [(3, 5)]), ("prod_all", ops.prod, [(2, 3)]),
    ("var", lambda x: ops.var(x, axis=0), [(3, 4)]),
    ("std", lambda x: ops.std(x, axis=1), [(3, 4)]),
    ("logsumexp", lambda x: ops.logsumexp(x, axis=1), [(3, 4)]),
    ("cumsum", lambda x: ops.cumsum(x, axis=1), [(3, 5)]), ("cumprod", ops.cumprod, [(2, 3)]),
    ("average", lambda x, w: ops.average(x, axis=1, weights=ops.abs(w) + 0.5), [(3, 4), (4,)]),
    ("roll", lambda x: ops.roll(x, 2, axis=1), [(3, 4)]), ("rot90", ops.rot90, [(3, 4)]),
    ("hstack", lambda a, b: ops.hstack([a, b]), [(3, 2), (3, 1)]),
    ("vstack", lambda a, b: ops.vstack([a, b]), [(4,), (4,)]),
    ("array_split", lambda x: ops.array_split(x, 2, axis=1)[0] * 2.0, [(3, 5)]),
    ("append", ops.append, [(2, 2), (3,)]),
    ("pad_reflect", lambda x: ops.pad(x, [(2, 1), (1, 2)], mode="reflect"), [(3, 4)]),
    ("pad_symmetric", lambda x: ops.pad(x, [(1, 1), (2, 0)], mode="symmetric"), [(3, 4)]),
    ("repeat_counts", lambda x: ops.repeat(x, [2, 0, 1], axis=0), [(3, 2)]),
    ("take_along_axis", lambda x: ops.take_along_axis(x, np.array([[2, 0, 0], [1, 1, 2]]), 1),
     [(2, 3)]),
    ("tensordot", lambda a, b: ops.tensordot(a, b, ([1, 2], [1, 0])), [(2, 3, 2), (2, 3, 2)]),
    ("einsum_matmul", lambda a, b: ops.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 2)]),
    ("einsum_diagonal", lambda a: ops.einsum("iij->ji", a), [(3, 3, 2)]),
    ("einsum_broadcast", lambda a, b: ops.einsum("...ij,jk", a, b), [(2, 2, 3), (3, 2)]),
    ("scatter", lambda v: ops.scatter([[0, 1], [2, 0], [0, 1]], v, (3, 2)), [(3,)]),
    ("scatter_update", lambda x, u: ops.scatter_update(x, [[1], [3]], u), [(4, 2), (2, 2)]),
    ("slice_update", lambda x, u: ops.slice_update(x, (1, 1), u), [(3, 4), (2, 2)]),
    ("segment_sum", lambda x: ops.segment_sum(x, [0, 2, 0, 1]), [(4, 2)]),
    ("psnr", lambda a, b: ops.psnr(a, b, 2.0), [(2, 3), (2, 3)]),
    ("batch_normalization", lambda x, m, v: ops.batch_normalization(
        x, m, ops.abs(v) + 0.5, axis=1, offset=m * 2.0, scale=v), [(3, 2, 2), (2,), (2,)]),
    ("depth_to_space", lambda x: ops.depth_to_space(x, 2), [(1, 2, 1, 8)]),
    ("space_to_depth", lambda x: ops.space_to_depth(x, 2), [(1, 2, 4, 2)]),
    ("resize_bilinear", lambda x: ops.image.resize(x, (5, 3)), [(1, 3, 4, 1)]),
    ("resize_bicubic_antialias", lambda x: ops.image.resize(
        x, (2, 3), interpolation="bicubic", antialias=True), [(1, 4, 4, 1)]),
    ("resize_nearest", lambda x: ops.image.resize(x, (5, 2), interpolation="nearest"),
     [(3, 4, 2)]),
    ("rgb_to_grayscale", ops.image.rgb_to_grayscale, [(2, 2, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", SHAPED, ids=[c[0] for c in SHAPED])
def test_shaped_gradients(name, fn, shapes):
    check_gradients(fn, *[r(*s) for s in shapes])


@pytest.mark.parametrize("name,fn", [
    ("sort", lambda x: ops.sort(x, axis=0)),
    ("top_k_values", lambda x: ops.top_k(x, 2)[0]),
    ("median", lambda x: ops.median(x, axis=1)),
    ("quantile", lambda x: ops.quantile(x, [0.2, 0.7], axis=0)),
    ("ptp", lambda x: ops.ptp(x, axis=1)),
    ("segment_max", lambda x: ops.segment_max(x, [1, 0, 1], num_segments=2)),
    ("norm_inf", lambda x: ops.norm(x, ord=np.inf, axis=1)),
    ("norm_matrix_1", lambda x: ops.norm(x, ord=1)),
])
def test_order_statistic_gradients(name, fn):
    check_gradients(fn, _distinct(3, 4))


@pytest.mark.parametrize("ord", [None, 1, 3, "fro"])
def test_norm_gradients(ord):
    axis = (0, 1) if ord == "fro" else 1
    check_gradients(lambda x: ops.norm(x, ord=ord, axis=axis), away_from(r(3, 4), [0.0]))


def test_prod_and_cumprod_gradients_with_a_zero():
    x = r(2, 4)
    x[0, 1] = 0.0
    check_gradients(lambda x: ops.prod(x, axis=1), x)
    check_gradients(lambda x: ops.cumprod(x, axis=1), x)


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True},
                                    {"mask": np.array([[True, False, True]])},
                                    {"scale": 0.3}])
def test_dot_product_attention_gradients(kwargs):
    def fn(q, k, v):
        return ops.dot_product_attention(q, k, v, **kwargs)

    check_gradients(fn, r(1, 3, 2, 2), r(1, 3, 2, 2), r(1, 3, 2, 2))


def test_grouped_query_attention_gradients():
    check_gradients(ops.dot_product_attention, r(1, 2, 4, 2), r(1, 3, 2, 2), r(1, 3, 2, 2))


def test_gradients_flow_through_scan_and_while_loop():
    def cumulative(x):
        def step(carry, row):
            carry = carry * 0.5 + row
            return carry, ops.tanh(carry)

        _, ys = ops.scan(step, ops.zeros((3,), "float64"), x)
        return ys

    check_gradients(cumulative, r(4, 3))

    def doubled(x):
        return ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * v + 0.1), (0, x))[1]

    check_gradients(doubled, r(2, 2, low=-0.8, high=0.8))
    check_gradients(lambda x: ops.fori_loop(0, 3, lambda i, v: ops.sin(v) * (i + 1), x), r(3))


def test_custom_gradient_replaces_the_gradient():
    @ops.custom_gradient
    def clipped_identity(x):
        def grad(upstream):
            return ops.clip(upstream, -0.5, 0.5)

        return x * 1.0, grad

    x = ops.convert_to_tensor(np.array([1.0, 2.0]))
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(clipped_identity(x) * ops.convert_to_tensor(np.array([0.2, 3.0])))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.2, 0.5])

    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    check_gradients(log1pexp, r(5))


@pytest.mark.parametrize("name,fn,shapes", [
    ("diff", lambda x: ops.diff(x, 2), [(3, 5)]),
    ("trapezoid", lambda y, x: ops.trapezoid(y, x=ops.cumsum(ops.abs(x) + 0.1)), [(2, 4), (4,)]),
    ("nansum", lambda x: ops.nansum(x, axis=1), [(3, 4)]),
    ("nanmean", lambda x: ops.nanmean(x, axis=0), [(3, 4)]),
    ("select", lambda x: ops.select([x > 1.0, x < -1.0], [x * 2.0, -x], 0.5), [(3, 4)]),
    ("ldexp", lambda x: ops.ldexp(x, np.array([1, 0, -1])), [(2, 3)]),
    ("vander", lambda x: ops.vander(x, 3), [(4,)]),
    ("corrcoef", ops.corrcoef, [(3, 5)]),
    ("correlate_same", lambda a, v: ops.correlate(a, v, "same"), [(5,), (3,)]),
    ("correlate_full", lambda a, v: ops.correlate(a, v, "full"), [(3,), (4,)]),
    ("sparsemax", lambda x: ops.sparsemax(x * 0.3), [(3, 4)]),
])
def test_less_common_gradients(name, fn, shapes):
    check_gradients(fn, *[r(*s) for s in shapes])
