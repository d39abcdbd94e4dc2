"""pad_sequences (Keras semantics), to_categorical, ImageDataGenerator and its NumPy affine."""

import numpy as np
import pytest

import webkeras as keras
from webkeras.preprocessing.affine import apply_affine_transform
from webkeras.preprocessing.sequence import pad_sequences

# Outputs below were produced by real Keras 3.15 (keras.utils.pad_sequences).


def test_pad_sequences_matches_keras():
    seqs = [[1, 2, 3], [4, 5], [6]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[2, 3], [4, 5], [0, 6]])
    np.testing.assert_array_equal(
        pad_sequences(seqs, maxlen=2, padding="post", truncating="post", value=9),
        [[1, 2], [4, 5], [6, 9]])
    default = pad_sequences(seqs)
    assert default.dtype == np.int32
    np.testing.assert_array_equal(default, [[1, 2, 3], [0, 4, 5], [0, 0, 6]])
    floats = pad_sequences([[1.5, 2], [3]], dtype="float32")
    np.testing.assert_array_equal(floats, [[1.5, 2.0], [0.0, 3.0]])
    np.testing.assert_array_equal(pad_sequences([[1, 2], []]), [[1, 2], [0, 0]])
    assert pad_sequences([[[1, 2], [3, 4]], [[5, 6]]]).shape == (2, 2, 2)
    strings = pad_sequences([["a", "b"], ["c"]], dtype=object, value="_")
    assert strings.tolist() == [["a", "b"], ["_", "c"]]
    assert keras.preprocessing.sequence.pad_sequences is pad_sequences
    np.testing.assert_array_equal(keras.utils.pad_sequences(seqs, maxlen=1), [[3], [5], [6]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="`sequences` must be iterable"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="must be a list of iterables"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "x" not understood'):
        pad_sequences([[1, 2]], maxlen=1, truncating="x")
    with pytest.raises(ValueError, match="set `dtype=object`"):
        pad_sequences([["a"]], value="_")


def test_to_categorical():
    out = keras.utils.to_categorical([1, 2, 0])
    np.testing.assert_array_equal(out, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    assert keras.utils.to_categorical(np.array([[1], [2]]), 4).shape == (2, 4)
    assert keras.utils.to_categorical(np.zeros((2, 3), int), 5).shape == (2, 3, 5)


def test_affine_transform_exact_cases():
    img = np.arange(16, dtype="float32").reshape(4, 4, 1)
    # A 90-degree rotation about the centre lands on the pixel grid: exact.
    rotated = apply_affine_transform(img, theta=90)
    np.testing.assert_allclose(rotated[..., 0], np.rot90(img[..., 0], k=1), atol=1e-4)
    # Integer shift, as Keras's legacy apply_affine_transform does it (checked against it):
    # tx=1 samples column c + 1, filling the last column with cval.
    shifted = apply_affine_transform(img, tx=1, fill_mode="constant", cval=-1)
    np.testing.assert_array_equal(shifted[:, :3, 0], img[:, 1:, 0])
    np.testing.assert_array_equal(shifted[:, 3, 0], [-1, -1, -1, -1])
    # Identity is a no-op; zoom 2x samples half the image around the centre.
    assert apply_affine_transform(img) is img
    zoomed = apply_affine_transform(img, zx=0.5, zy=0.5)
    assert zoomed[..., 0].min() >= 2.5 and zoomed[..., 0].max() <= 12.5


def test_affine_matches_scipy_when_available():
    ndimage = pytest.importorskip("scipy.ndimage")
    from webkeras.preprocessing.affine import affine_transform

    rng = np.random.default_rng(0)
    img = rng.random((9, 11))
    matrix = np.array([[0.9, -0.3], [0.25, 1.1]])
    offset = np.array([0.7, -1.3])
    for mode in ("nearest", "reflect", "constant", "wrap"):
        ours = affine_transform(img, matrix, offset, fill_mode=mode, cval=0.5)
        ref = ndimage.affine_transform(img, matrix, offset, order=1, mode=mode, cval=0.5)
        np.testing.assert_allclose(ours, ref, atol=1e-6, err_msg=mode)


def test_image_data_generator_flow_rescale_flip_and_shapes():
    x = np.random.default_rng(0).integers(0, 256, (10, 6, 6, 1)).astype("uint8")
    y = np.arange(10)
    gen = keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255)
    flow = gen.flow(x, y, batch_size=4, shuffle=False)
    assert len(flow) == 3
    bx, by = flow[0]
    assert bx.dtype == np.float32 and bx.shape == (4, 6, 6, 1)
    np.testing.assert_allclose(bx, x[:4] / 255, rtol=1e-6)
    np.testing.assert_array_equal(by, y[:4])
    assert flow[2][0].shape == (2, 6, 6, 1)

    flip = keras.preprocessing.image.ImageDataGenerator(horizontal_flip=True)
    params = flip.get_random_transform((6, 6, 1), seed=0)
    params["flip_horizontal"] = True
    np.testing.assert_array_equal(flip.apply_transform(x[0].astype("float32"), params),
                                  x[0, :, ::-1].astype("float32"))


def test_image_data_generator_augments_within_ranges_and_fit_centres():
    rng = np.random.default_rng(1)
    x = rng.random((8, 8, 8, 3)).astype("float32")
    gen = keras.preprocessing.image.ImageDataGenerator(
        rotation_range=30, width_shift_range=0.2, height_shift_range=0.2, zoom_range=0.1,
        horizontal_flip=True, featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    assert gen.mean.shape == (1, 1, 3) and gen.std.shape == (1, 1, 3)
    params = gen.get_random_transform((8, 8, 3), seed=3)
    assert abs(params["theta"]) <= 30 and abs(params["tx"]) <= 0.2 * 8
    assert 0.9 <= params["zx"] <= 1.1
    batch = gen.flow(x, batch_size=8, shuffle=False, seed=0)[0]
    assert batch.shape == (8, 8, 8, 3) and not np.allclose(batch, x)
    with pytest.raises(ValueError, match="should have rank 4"):
        gen.flow(np.zeros((3, 8, 8)))


def test_fit_on_image_data_generator_flow():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = np.zeros((64, 8, 8, 1), "float32")
    x[y == 1, 2:6, 2:6] = 255.0  # class 1: a bright square in the middle
    gen = keras.preprocessing.image.ImageDataGenerator(
        rescale=1 / 255, rotation_range=10, width_shift_range=0.1, horizontal_flip=True)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(gen.flow(x, y, batch_size=32), epochs=10, verbose=0)
    assert history.params["steps"] == 2
    assert history.history["accuracy"][-1] > 0.8
