"""Image preprocessing layers and ops (issue #14: the ViT and transfer-learning examples):
Rescaling, Resizing, Normalization.adapt, RandomFlip/RandomRotation/RandomZoom,
ops.image.extract_patches and ops.image.affine_transform, through the public API."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers, ops


def _np(x):
    return ops.convert_to_numpy(x)


def test_extract_patches_flattens_each_patch_in_row_column_channel_order():
    x = np.random.default_rng(0).random((2, 12, 18, 3)).astype("float32")
    patches = _np(ops.image.extract_patches(x, size=6))
    expected = x.reshape(2, 2, 6, 3, 6, 3).transpose(0, 1, 3, 2, 4, 5).reshape(2, 2, 3, 108)
    np.testing.assert_array_equal(patches, expected)
    strided = _np(ops.image.extract_patches(x[0], size=(2, 3), strides=1))
    assert strided.shape == (11, 16, 18)
    np.testing.assert_array_equal(strided[4, 7], x[0, 4:6, 7:10].reshape(-1))


def test_extract_patches_gradient_routes_back_to_every_pixel():
    x = keras.Variable(np.ones((1, 4, 4, 1), "float32"))
    with keras.GradientTape() as tape:
        total = ops.sum(ops.image.extract_patches(x, 2, strides=1))
    # Overlapping patches (stride 1) count each pixel once per patch that covers it.
    np.testing.assert_array_equal(_np(tape.gradient(total, x))[0, :, :, 0],
                                  [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def _rotation(turns, height, width):
    angle = turns * 2 * np.pi
    cos, sin = np.cos(angle), np.sin(angle)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    return np.array([cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos,
                     0, 0], "float32")


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_affine_transform_identity_and_quarter_turn(interpolation):
    x = np.random.default_rng(1).random((5, 5, 2)).astype("float32")
    identity = np.array([1, 0, 0, 0, 1, 0, 0, 0], "float32")
    np.testing.assert_allclose(_np(ops.image.affine_transform(x, identity, interpolation)), x)
    turned = _np(ops.image.affine_transform(x, _rotation(0.25, 5, 5), interpolation))
    np.testing.assert_allclose(turned, np.rot90(x, k=1, axes=(0, 1)), atol=1e-5)


def test_affine_transform_fill_modes_past_the_edge():
    x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
    shift = np.array([1, 0, -2, 0, 1, 0, 0, 0], "float32")  # output x reads input x - 2
    row = {mode: _np(ops.image.affine_transform(x, shift, "nearest", mode, fill_value=9))
           [0, 0, :, 0].tolist() for mode in ops.image.FILL_MODES}
    assert row == {"constant": [9, 9, 0, 1], "nearest": [0, 0, 0, 1], "wrap": [2, 3, 0, 1],
                   "mirror": [2, 1, 0, 1], "reflect": [1, 0, 0, 1]}
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        ops.image.affine_transform(x, shift, fill_mode="edge")


def test_rescaling_and_resizing_in_a_model_round_trip(tmp_path):
    inputs = keras.Input((8, 6, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    outputs = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x)
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(2).integers(0, 256, (2, 8, 6, 3)).astype("uint8")
    out = model.predict(images, verbose=0)
    assert out.shape == (2, 4, 4, 3) and out.min() >= -1 and out.max() <= 1
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(images, verbose=0), out, atol=1e-6)


def test_normalization_adapt_and_invert(tmp_path):
    data = np.random.default_rng(3).normal([1.0, -2.0, 5.0], [0.5, 2.0, 3.0], (200, 4, 3))
    layer = layers.Normalization()
    layer.adapt(data.astype("float32"))
    out = _np(layer(data.astype("float32")))
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1)), 1, atol=1e-4)
    assert [w.shape for w in layer.weights] == [(3,), (3,)]
    given = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(_np(given(np.array([[1.0, 1.0]], "float32"))), [[3.0, 5.0]])
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "n.keras")
    again = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(again.predict(data[:5], verbose=0), out[:5], atol=1e-5)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=[0.0])


def test_random_layers_are_the_identity_in_inference_and_seeded_in_training():
    images = np.random.default_rng(4).random((6, 7, 7, 3)).astype("float32")
    for make in (lambda: layers.RandomFlip("horizontal", seed=5),
                 lambda: layers.RandomRotation(0.2, seed=5),
                 lambda: layers.RandomZoom(0.3, seed=5)):
        np.testing.assert_array_equal(_np(make()(images, training=False)), images)
        first, second = _np(make()(images)), _np(make()(images))
        np.testing.assert_array_equal(first, second)
        assert not np.allclose(first, images)


def test_random_flip_flips_whole_images_and_rotation_turns_them():
    images = np.random.default_rng(6).random((16, 5, 5, 1)).astype("float32")
    flipped = _np(layers.RandomFlip("horizontal", seed=7)(images))
    for image, out in zip(images, flipped):
        assert np.array_equal(out, image) or np.array_equal(out, image[:, ::-1])
    turned = _np(layers.RandomRotation((0.25, 0.25), fill_mode="constant")(images))
    np.testing.assert_allclose(turned, np.rot90(images, 1, axes=(1, 2)), atol=1e-5)
    with pytest.raises(ValueError, match="unknown mode"):
        layers.RandomFlip("diagonal")


def test_augmentation_trains_inside_a_model():
    keras.utils.set_random_seed(8)
    inputs = keras.Input((8, 8, 3))
    x = layers.RandomFlip("horizontal")(inputs)
    x = layers.RandomZoom(0.1)(layers.RandomRotation(0.05)(x))
    outputs = layers.Dense(2)(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train = np.random.default_rng(9).random((32, 8, 8, 3)).astype("float32")
    history = model.fit(x_train, np.arange(32) % 2, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
