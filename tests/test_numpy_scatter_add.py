"""The NumPy backend's scatter_add (take's VJP: the Embedding gradient) against numpy.add.at,
bit for bit: repeated rows summed in the order they come, negative indices, any axis."""

import numpy as np
import pytest

from webkeras.backend.numpy import NumpyBackend

BACKEND = NumpyBackend()


@pytest.mark.parametrize("rows, index_shape, axis", [
    (50, (8, 10), 0),      # Embedding-like: few rows, many repeats
    (20000, (32, 80), 0),  # M3's shape: mostly distinct rows
    (7, (3, 4), 1),        # along a middle axis, negative indices
    (5, (0,), 0),          # nothing to add
])
def test_scatter_add_matches_add_at_bit_for_bit(rows, index_shape, axis):
    rng = np.random.default_rng([rows, axis])
    indices = rng.integers(-rows if axis else 0, rows, index_shape).astype(np.int32)
    shape = (3, rows, 6) if axis else (rows, 6)
    updates_shape = shape[:axis] + index_shape + shape[axis + 1:]
    updates = rng.normal(size=updates_shape).astype(np.float32)
    expected = np.zeros(shape, np.float32)
    moved = np.moveaxis(expected, axis, 0)
    np.add.at(moved, indices, np.moveaxis(
        updates, tuple(range(axis, axis + indices.ndim)), tuple(range(indices.ndim))))
    out = BACKEND.scatter_add(indices, updates, shape, axis)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    if rows == 50:
        assert len(np.unique(indices)) < indices.size  # the repeats path ran


def test_scatter_add_rejects_an_index_past_the_end():
    with pytest.raises(IndexError):
        BACKEND.scatter_add(np.array([0, 3], np.int32), np.ones((2, 2), np.float32), (3, 2), 0)
