"""Finite-difference checks of the slicing, joining, gather, conv and activation ops' VJPs."""

import numpy as np
import pytest
from webkeras import ops
from webkeras.testing.gradients import check_gradients


pytestmark = pytest.mark.usefixtures("numpy_backend")


rng = np.random.default_rng(7)


def r(*shape):
    return rng.uniform(-2, 2, size=shape)


CASES = [
    ("getitem", lambda x: x[1:, ::2, None, -1], (3, 4, 2)),
    ("getitem_negative_step", lambda x: x[::-1, 2], (3, 4)),
    ("getitem_array", lambda x: x[:, [2, 0, 2]], (2, 3)),
    ("take", lambda x: ops.take(x, np.array([[0, 1], [1, 1]]), axis=1), (2, 3, 2)),
    ("pad", lambda x: ops.pad(x, [(1, 2), (0, 1)], constant_values=1.5), (2, 3)),
    ("tile", lambda x: ops.tile(x, (2, 3)), (2, 3)),
    ("repeat", lambda x: ops.repeat(x, 3, axis=0), (2, 3)),
    ("flip", lambda x: ops.flip(x, axis=1), (2, 3)),
    ("split", lambda x: ops.split(x, [1], axis=1)[1] * 2.0, (2, 3)),
    ("stack", lambda x: ops.stack([x, x * 2.0], axis=1), (2, 3)),
    ("erf", ops.erf, (3, 4)),
    ("gelu_exact", lambda x: ops.gelu(x, approximate=False), (3, 4)),
    ("gelu_tanh", ops.gelu, (3, 4)),
    ("elu", ops.elu, (3, 4)),
    ("selu", ops.selu, (3, 4)),
    ("softplus", ops.softplus, (3, 4)),
    ("softsign", ops.softsign, (3, 4)),
    ("silu", ops.silu, (3, 4)),
    ("mish", ops.mish, (3, 4)),
    ("max_pool_same", lambda x: ops.max_pool(x, 2, 2, "same"), (1, 5, 5, 2)),
    ("avg_pool_same", lambda x: ops.average_pool(x, 3, 2, "same"), (1, 5, 4, 2)),
    ("avg_pool_1d", lambda x: ops.average_pool(x, 2), (2, 6, 2)),
]


@pytest.mark.parametrize("name,fn,shape", CASES, ids=[c[0] for c in CASES])
def test_unary_gradients(name, fn, shape):
    x = r(*shape)
    if name in ("elu", "selu"):
        x = np.where(np.abs(x) < 0.05, 0.3, x)
    check_gradients(fn, x)


def test_concatenate_gradients():
    check_gradients(lambda a, b: ops.concatenate([a, b, a], axis=1), r(2, 3), r(2, 1))


@pytest.mark.parametrize("kwargs", [
    {"strides": 1, "padding": "valid"},
    {"strides": 2, "padding": "same"},
    {"strides": 1, "padding": "same", "dilation_rate": 2},
    {"strides": 1, "padding": "valid", "data_format": "channels_first"},
])
def test_conv2d_gradients(kwargs):
    if kwargs.get("data_format") == "channels_first":
        x = r(1, 2, 5, 4)
    else:
        x = r(1, 5, 4, 2)
    check_gradients(lambda x, k: ops.conv(x, k, **kwargs), x, r(2, 2, 2, 3))


def test_grouped_and_depthwise_conv_gradients():
    check_gradients(lambda x, k: ops.conv(x, k, padding="same"), r(1, 4, 4, 4), r(2, 2, 2, 4))
    check_gradients(lambda x, k: ops.depthwise_conv(x, k), r(1, 4, 4, 2), r(2, 2, 2, 2))


def test_conv_transpose_gradients():
    check_gradients(lambda x, k: ops.conv_transpose(x, k, 2, "same"), r(1, 3, 3, 2),
                    r(3, 3, 2, 2))
    check_gradients(lambda x, k: ops.conv_transpose(x, k, 2, "valid"), r(1, 2, 3), r(3, 2, 3))


def test_conv_matches_direct_loops():
    x, k = r(2, 5, 6, 3), r(3, 2, 3, 4)
    expected = np.zeros((2, 3, 5, 4))
    for i in range(3):
        for j in range(5):
            expected[:, i, j] = np.einsum("nhwc,hwcf->nf", x[:, i:i + 3, j:j + 2], k)
    np.testing.assert_allclose(ops.conv(x, k).numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("picks", [
    [(slice(None), t) for t in range(5)],            # every step, as an RNN reads x[:, t]
    [(slice(None), t) for t in (4, 0, 2, 2)],        # some steps missing, one read twice
    [(slice(None), slice(1, 4)), (slice(None), 3)],  # a range: summed densely
    [(0,), (slice(None), 1), (1, slice(2, 5, 2))],   # slices of several axes
])
def test_gradients_of_many_slices_of_one_tensor(picks):
    def fn(x):
        total = ops.sum(x * 0.5)  # a dense use beside the slices
        for i, key in enumerate(picks):
            total = total + ops.sum(ops.square(x[key]) * (i + 1))
        return total

    check_gradients(fn, r(2, 5, 3))


def test_slices_of_every_step_join_without_padding_each_to_full_size(monkeypatch):
    from webkeras.ops import array

    def padded(*args):
        pytest.fail("a slice's gradient was padded to the full size")

    monkeypatch.setattr(ops, "slice_scatter", padded)
    monkeypatch.setattr(array, "slice_scatter", padded)
    x = ops.convert_to_tensor(r(2, 6, 3))
    from webkeras.ops.tape import GradientTape

    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.stack([ops.square(x[:, t]) for t in range(6)], axis=1))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * x.numpy(), rtol=1e-12)
