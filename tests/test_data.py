"""keras.data.Dataset: tf.data semantics for slicing, batching, shuffling and cardinality."""

import numpy as np
import pytest

import webkeras as keras
from webkeras.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset


def test_constants_match_tf_data():
    assert (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY) == (-1, -2)


def test_from_tensor_slices_tuple_dict_and_iteration():
    x = np.arange(10).reshape(5, 2)
    y = np.arange(5)
    elements = list(Dataset.from_tensor_slices((x, y)))
    assert len(elements) == 5 and isinstance(elements[0], tuple)
    np.testing.assert_array_equal(elements[2][0], [4, 5])
    assert elements[2][1] == 2
    dict_elements = list(Dataset.from_tensor_slices({"a": x, "b": y}))
    np.testing.assert_array_equal(dict_elements[1]["a"], [2, 3])
    assert list(Dataset.from_tensor_slices([1, 2, 3]).as_numpy_iterator()) == [1, 2, 3]
    with pytest.raises(ValueError, match="first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))


def test_batch_drop_remainder_unbatch_and_cardinality():
    ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) * 2))
    batches = list(ds.batch(4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert ds.batch(4).cardinality() == 3 and ds.batch(4, drop_remainder=True).cardinality() == 2
    assert len(list(ds.batch(4, drop_remainder=True))) == 2
    unbatched = ds.batch(3).unbatch()
    assert unbatched.cardinality() == UNKNOWN_CARDINALITY
    assert [int(e[1]) for e in unbatched] == list(range(0, 20, 2))


def test_repeat_take_skip_and_infinite_cardinality():
    ds = Dataset.range(4)
    assert list(ds.repeat(2)) == [0, 1, 2, 3, 0, 1, 2, 3]
    assert ds.repeat(3).cardinality() == 12
    forever = ds.repeat()
    assert forever.cardinality() == INFINITE_CARDINALITY
    assert list(forever.take(6)) == [0, 1, 2, 3, 0, 1]
    assert forever.take(6).cardinality() == 6
    assert list(ds.skip(1)) == [1, 2, 3] and ds.skip(1).cardinality() == 3
    assert ds.skip(10).cardinality() == 0 and list(ds.take(-1)) == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="infinite"):
        len(forever)
    assert len(ds) == 4


def test_shuffle_is_a_permutation_seeded_and_reshuffles_each_epoch():
    ds = Dataset.range(50).shuffle(10, seed=1)
    first, second = list(ds), list(ds)
    assert sorted(first) == list(range(50)) and first != list(range(50))
    assert first != second  # reshuffle_each_iteration=True
    assert list(Dataset.range(50).shuffle(10, seed=1)) == first  # seeded: repeatable
    fixed = Dataset.range(50).shuffle(10, seed=1, reshuffle_each_iteration=False)
    assert list(fixed) == list(fixed)
    # A buffer of 10 cannot move element 0 past position ~ (buffer-sized window) early on.
    assert first.index(49) >= 39


def test_map_filter_cache_prefetch_zip_concatenate():
    ds = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10))
    mapped = ds.map(lambda x, y: (x * 2, y + 1))
    assert [(int(a), int(b)) for a, b in mapped][:2] == [(0, 1), (2, 11)]
    evens = ds.filter(lambda x, y: x % 2 == 0)
    assert [int(x) for x, _ in evens] == [0, 2, 4]
    assert evens.cardinality() == UNKNOWN_CARDINALITY
    calls = []
    cached = Dataset.range(3).map(lambda x: calls.append(1) or x).cache()
    assert list(cached) == [0, 1, 2] and list(cached) == [0, 1, 2] and len(calls) == 3
    assert Dataset.range(3).prefetch(keras.data.AUTOTUNE).cardinality() == 3
    zipped = Dataset.zip((Dataset.range(3), Dataset.range(5)))
    assert zipped.cardinality() == 3 and list(zipped)[2] == (2, 2)
    assert list(Dataset.range(2).concatenate(Dataset.range(2))) == [0, 1, 0, 1]


def test_map_with_ops_returns_numpy_and_batches_dicts():
    ds = Dataset.from_tensor_slices({"img": np.ones((4, 2), "float32"), "label": np.arange(4)})
    ds = ds.map(lambda d: {"img": keras.ops.multiply(d["img"], 2.0), "label": d["label"]})
    batch = next(iter(ds.batch(4)))
    assert isinstance(batch["img"], np.ndarray) and batch["img"].shape == (4, 2)
    np.testing.assert_allclose(batch["img"], 2.0)


def test_from_generator_and_ragged_batch_error():
    ds = Dataset.from_generator(lambda: ((np.ones(i), i) for i in range(1, 4)))
    assert ds.cardinality() == UNKNOWN_CARDINALITY and len(list(ds)) == 3
    with pytest.raises(ValueError, match="different shapes"):
        list(ds.batch(3))
