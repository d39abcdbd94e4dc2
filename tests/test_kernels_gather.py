"""The WebGPU backend's slicing, joining and gather kernels and erf against the NumPy backend:
strided_slice (negative steps, empty results, up to 8 unmergeable dims), slice_scatter,
concatenate along every axis, take and scatter_add (negative and duplicate indices, NumPy's
IndexError), erf; no host readbacks; an Embedding + LSTM train step the same on both backends,
reading back only the loss."""

import numpy as np
import pytest
from webkeras import backend
from webkeras.backend.base import Backend
from webkeras.backend.webgpu import LOOP_LIMIT, WebGPUBackend

from tests.device_reads import CountedReads
from tests.test_kernels import REF, sample  # skips without a WebGPU adapter


@pytest.fixture(scope="module")
def gpu():
    return WebGPUBackend()


def on_gpu(gpu, method, *args):
    """`method` on the device with host arrays uploaded, read back; no other readback."""
    up = [gpu.from_numpy(a) if isinstance(a, np.ndarray) else
          [gpu.from_numpy(b) for b in a] if isinstance(a, list) else a for a in args]
    with CountedReads(gpu.driver) as reads:
        out = getattr(gpu, method)(*up)
    assert reads.count == 0, f"{method} read back {reads.count} times"
    return gpu.to_numpy(out)


def assert_same(got, want):
    """Bit-exact, same shape and dtype: these kernels move data, they do not round it."""
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype,
                                                                 want.shape, want.dtype)
    np.testing.assert_array_equal(got, want)


def indices(values):
    return np.asarray(values, dtype=np.int32)


# -- strided_slice / slice_scatter -----------------------------------------------------------
S = slice
REVERSE = S(None, None, -1)
SLICE_CASES = [
    ((7,), (S(1, 5, 1),)),
    ((7,), (REVERSE,)),
    ((7,), (S(5, 0, -2),)),
    ((1,), (S(0, 1, 1),)),
    ((5,), (S(3, 3, 1),)),  # empty
    ((5,), (S(0, None, -1),)),  # one element, stepping backwards
    ((3, 5), (S(None), S(1, 3, 1))),
    ((3, 5), (S(2, None, -1), S(4, None, -3))),
    ((1, 1), (S(None), REVERSE)),
    ((4, 0), (S(1, 3), S(None))),  # a zero-size dim
    ((3, 4), (S(2, 2), REVERSE)),  # empty by its first dim
    ((2, 3, 4), (S(0, 2, 1), S(2, None, -1), S(1, 4, 2))),
    ((5, 1, 7), (S(None, None, 2), S(None), S(6, 0, -3))),
    ((4, 3, 2, 5), (S(1, 2), S(None), REVERSE, S(0, 5, 4))),
    ((3, 1, 1, 9), (REVERSE, S(None), S(None), S(2, 7))),
    ((2, 2, 2, 2, 2), (S(1, None),) * 5),
    ((2, 3, 2, 3, 2, 3), (REVERSE,) * 6),
    # Reversed and forward dims alternating: 8 dims no merge can join.
    ((2, 3) * 4, (REVERSE, S(None)) * 4),
    ((33, 17), (S(None), S(16, None, -1))),
    ((17, 129), (S(3, 15, 4), S(1, 128, 1))),
    ((300_001,), (S(1, None, 3),)),
    ((64, 257), (S(None), S(0, 256, 1))),
    ((32, 80, 128), (S(None), S(7, 8), S(None))),  # an LSTM time step
    ((32, 512), (S(None), S(256, 384))),  # an LSTM gate
    ((8, 8, 8, 8), (S(7, None, -2), S(1, 7, 2), REVERSE, S(3, 4))),
]
SLICE_IDS = [f"{shape}-{k}" for k, (shape, _) in enumerate(SLICE_CASES)]


@pytest.mark.parametrize("shape,slices", SLICE_CASES, ids=SLICE_IDS)
def test_strided_slice(gpu, shape, slices):
    x = sample(shape)
    assert_same(on_gpu(gpu, "strided_slice", x, slices), REF.strided_slice(x, slices))


@pytest.mark.parametrize("shape,slices", SLICE_CASES, ids=SLICE_IDS)
def test_slice_scatter(gpu, shape, slices):
    values = REF.strided_slice(sample(shape), slices)
    assert_same(on_gpu(gpu, "slice_scatter", values, shape, slices),
                REF.slice_scatter(values, shape, slices))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
@pytest.mark.parametrize("shape,slices", SLICE_CASES[11:14])
def test_slices_of_ints_and_bools(gpu, dtype, shape, slices):
    x = sample(shape, dtype=dtype)
    part = REF.strided_slice(x, slices)
    assert_same(on_gpu(gpu, "strided_slice", x, slices), part)
    assert_same(on_gpu(gpu, "slice_scatter", part, shape, slices),
                REF.slice_scatter(part, shape, slices))


def test_slice_scatter_refuses_values_of_another_shape(gpu):
    with pytest.raises(ValueError, match=r"values of shape \(2,\) do not fit"):
        gpu.slice_scatter(gpu.from_numpy(sample((2,))), (5,), (S(0, 3, 1),))


def test_walks_over_more_than_eight_dims_are_refused(gpu):
    x = gpu.from_numpy(sample((2, 3) * 4 + (2,)))
    with pytest.raises(ValueError, match="up to 8 dims"):
        gpu.strided_slice(x, (REVERSE, S(None)) * 4 + (REVERSE,))


# -- concatenate -----------------------------------------------------------------------------
CONCAT_CASES = [
    ([(3,), (4,)], 0),
    ([(1,), (1,), (1,)], 0),
    ([(0,), (5,)], 0),
    ([(2, 3), (2, 5)], 1),
    ([(2, 3), (4, 3)], 0),
    ([(2, 3), (2, 3)], -1),
    ([(1, 1), (1, 1)], 1),
    ([(2, 3, 4)] * 3, 0),
    ([(2, 3, 4)] * 3, 1),
    ([(2, 3, 4)] * 3, 2),
    ([(4, 1, 2, 5), (4, 3, 2, 5)], 1),
    ([(4, 3, 2, 5), (4, 3, 2, 1), (4, 3, 2, 2)], 3),
    ([(4, 3, 2, 5), (1, 3, 2, 5)], 0),
    ([(4, 3, 1, 5), (4, 3, 7, 5)], 2),
    ([(32, 1, 128)] * 80, 1),  # an LSTM's return_sequences stack
    ([(33, 17), (33, 0), (33, 2)], 1),
    ([(1000,), (1,)], 0),
    ([(2, 2, 2, 2, 2)] * 2, 4),
    ([(300_000,), (7,)], 0),
    ([(17, 129), (17, 129)], 0),
    ([(5,)], 0),
]


@pytest.mark.parametrize("shapes,axis", CONCAT_CASES,
                         ids=[f"{s[0]}x{len(s)}-{a}" for s, a in CONCAT_CASES])
def test_concatenate(gpu, shapes, axis):
    arrays = [sample(shape, seed=k) for k, shape in enumerate(shapes)]
    assert_same(on_gpu(gpu, "concatenate", arrays, axis), REF.concatenate(arrays, axis))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_concatenate_ints_and_bools(gpu, dtype):
    arrays = [sample((3, k, 2), seed=k, dtype=dtype) for k in (1, 4, 2)]
    assert_same(on_gpu(gpu, "concatenate", arrays, 1), REF.concatenate(arrays, 1))


def test_concatenate_refuses_mismatched_shapes(gpu):
    a, b = gpu.from_numpy(sample((2, 3))), gpu.from_numpy(sample((3, 3)))
    with pytest.raises(ValueError, match="same shape but along axis 1"):
        gpu.concatenate([a, b], 1)


# -- take / scatter_add ----------------------------------------------------------------------
def _random(shape, low, high, seed=0):
    return np.random.default_rng(seed).integers(low, high, size=shape).astype(np.int32)


# (shape of x for take, of the output for scatter_add; indices; axis)
GATHER_CASES = [
    ((7,), [0, 6, 3], 0),
    ((7,), [-1, -7, 2, 2, 5], 0),  # negative and duplicate indices
    ((1,), [0, 0, 0], 0),
    ((5,), [], 0),  # empty result
    ((3, 5), [[0, 2], [1, 1]], 0),
    ((3, 5), [4, 0, -2], 1),
    ((3, 5), 2, 1),  # a 0-d index drops the axis
    ((2, 3, 4), [[0, 2], [2, -1]], 1),
    ((2, 3, 4), [3, 0, 3], 2),
    ((2, 3, 4), [1], 0),
    ((4, 3, 2, 5), _random((7,), -4, 4), 0),
    ((4, 3, 2, 5), _random((2, 3), -3, 3), 1),
    ((4, 3, 2, 5), _random((5,), 0, 2), 2),
    ((4, 3, 2, 5), _random((3, 1, 2), -5, 5), 3),
    ((3, 0), [1, 2], 0),  # zero-size rows
    ((0, 3), [], 0),
    ((33, 17), _random((5, 6), -17, 17), 1),
    ((1, 1), [0, 0], 1),
    ((2, 2, 2, 2, 2), [1, 0, 1], 4),
    ((20000, 128), _random((32, 80), 0, 20000), 0),  # Embedding(20000, 128), batch 32x80
    ((20000, 128), _random((32, 80), 0, 40), 0),  # ... with many repeated words
    ((300_000,), _random((999,), -300_000, 300_000), 0),
]
GATHER_IDS = [f"{shape}-{k}" for k, (shape, _, _) in enumerate(GATHER_CASES)]


@pytest.mark.parametrize("shape,index,axis", GATHER_CASES, ids=GATHER_IDS)
def test_take(gpu, shape, index, axis):
    x, index = sample(shape), indices(index)
    assert_same(on_gpu(gpu, "take", x, index, axis), REF.take(x, index, axis))


@pytest.mark.parametrize("shape,index,axis", GATHER_CASES, ids=GATHER_IDS)
def test_scatter_add(gpu, shape, index, axis):
    index = indices(index)
    updates = sample(shape[:axis] + index.shape + shape[axis + 1:], seed=1)
    # Duplicates add in numpy.add.at's order, so even float sums match bit for bit.
    assert_same(on_gpu(gpu, "scatter_add", index, updates, shape, axis),
                REF.scatter_add(index, updates, shape, axis))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
@pytest.mark.parametrize("shape,index,axis", [GATHER_CASES[1], GATHER_CASES[11]])
def test_take_and_scatter_add_of_ints_and_bools(gpu, dtype, shape, index, axis):
    x, index = sample(shape, dtype=dtype), indices(index)
    assert_same(on_gpu(gpu, "take", x, index, axis), REF.take(x, index, axis))
    updates = REF.take(x, index, axis)
    assert_same(on_gpu(gpu, "scatter_add", index, updates, shape, axis),
                REF.scatter_add(index, updates, shape, axis))


def test_scatter_add_past_the_loop_limit_runs_on_the_host(gpu):
    index = _random((LOOP_LIMIT + 1,), -50, 50)
    updates = sample((LOOP_LIMIT + 1, 3))
    got = gpu.to_numpy(gpu.scatter_add(gpu.from_numpy(index), gpu.from_numpy(updates),
                                       (50, 3), 0))
    assert_same(got, REF.scatter_add(index, updates, (50, 3), 0))


@pytest.mark.parametrize("index", [[0, 3, 1], [-4, 1], [[1, 2], [9, -9]]])
@pytest.mark.parametrize("computed", [False, True], ids=["uploaded", "computed"])
def test_out_of_range_indices_raise_as_numpy(gpu, index, computed):
    x, index = sample((2, 3)), indices(index)
    with pytest.raises(IndexError) as want:
        REF.take(x, index, 1)
    device_index = gpu.from_numpy(index)
    if computed:  # the host does not know this array's range: it reads it back to check
        device_index = gpu.binary("sub", gpu.binary("add", device_index, device_index),
                                  device_index)
    with pytest.raises(IndexError) as got:
        gpu.take(gpu.from_numpy(x), device_index, 1)
    assert str(got.value) == str(want.value)
    updates = gpu.from_numpy(sample((2,) + index.shape))
    with pytest.raises(IndexError, match=str(want.value).split(" for axis")[0]):
        gpu.scatter_add(device_index, updates, (2, 3), 1)


def test_take_from_an_empty_axis_raises_as_numpy(gpu):
    with pytest.raises(IndexError, match="cannot do a non-empty take from an empty axes"):
        gpu.take(gpu.from_numpy(sample((0, 3))), gpu.from_numpy(indices([0])), 0)


def test_computed_indices_are_read_back_once(gpu):
    x = gpu.from_numpy(sample((5, 4)))
    index = gpu.from_numpy(indices([[4, 0], [1, 4]]))
    index = gpu.binary("sub", gpu.binary("add", index, index), index)
    with CountedReads(gpu.driver) as reads:
        y = gpu.take(x, index, 0)
        gpu.scatter_add(index, y, (5, 4), 0)
        gpu.take(x, gpu.reshape(index, (4,)), 0)
    assert reads.count == 1


def test_assign_forgets_the_known_range(gpu):
    index = gpu.from_numpy(indices([0, 1]))
    gpu.assign(index, gpu.from_numpy(indices([7, 1])))
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 2"):
        gpu.take(gpu.from_numpy(sample((2,))), index, 0)


# -- erf -------------------------------------------------------------------------------------
ERF_SHAPES = [
    (), (1,), (7,), (3, 5), (1, 1), (33, 17), (1000,), (2, 3, 4), (5, 1, 7), (4, 3, 2, 5),
    (17, 129), (300_000,), (64, 257), (3, 1, 1, 9), (1023,), (1025,), (2, 2, 2, 2, 2),
    (257, 3), (11, 13, 3), (8, 8, 8, 8), (0,), (4, 0),
]


@pytest.mark.parametrize("shape", ERF_SHAPES)
def test_erf(gpu, shape):
    x = sample(shape)  # normal(0, 3): the whole curve, tails included
    got, want = on_gpu(gpu, "erf", x), REF.erf(x)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert not want.size or np.max(np.abs(got - want)) <= 1e-6


def test_erf_over_the_whole_float_range(gpu):
    x = np.concatenate([np.linspace(-6, 6, 200_001), [-np.inf, np.inf, 0.0, -0.0],
                        np.geomspace(1e-38, 10, 10_001), -np.geomspace(1e-38, 10, 10_001)])
    x = x.astype(np.float32)
    error = np.abs(on_gpu(gpu, "erf", x).astype(np.float64) - REF.erf(x))
    assert error.max() <= 1e-6, f"max error {error.max():.3g} at x = {x[error.argmax()]}"


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_erf_of_ints_and_bools(gpu, dtype):
    x = np.arange(-9, 10, dtype=np.int32) if dtype == "int32" else np.array([True, False])
    assert_same(on_gpu(gpu, "erf", x), REF.erf(x))


# -- the backend as a whole ------------------------------------------------------------------
def test_every_primitive_runs_on_the_device():
    for name, stub in vars(Backend).items():
        if callable(stub):
            assert getattr(WebGPUBackend, name) is not stub, name


def _small_lstm():
    import webkeras as keras

    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Embedding(30, 8),
        keras.layers.LSTM(5, return_sequences=True),
        keras.layers.GRU(4),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def test_embedding_lstm_trains_one_step_the_same_on_both_backends_reading_back_only_the_loss():
    x = np.random.default_rng(0).integers(0, 30, (4, 6)).astype(np.int32)
    x[0, :3] = 7  # repeated words: their embedding gradients add up
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    with backend.backend_scope("numpy"):
        backend.set_backend("numpy")
        model = _small_lstm()
        start = [np.array(w) for w in model.get_weights()]
        want_loss = float(model.train_on_batch(x, y))
        want = model.get_weights()
        gpu = backend.set_backend("webgpu")
        model = _small_lstm()
        model.set_weights(start)
        with CountedReads(gpu.driver) as reads:
            got_loss = float(model.train_on_batch(x, y))
        got = model.get_weights()
    assert reads.count == 1  # the loss
    assert abs(got_loss - want_loss) <= 1e-4 * max(1.0, abs(want_loss))
    assert not np.array_equal(want[0], start[0])  # the embedding did move
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
