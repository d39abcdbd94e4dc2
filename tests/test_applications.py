"""keras.applications: the architectures build at small sizes with every top/pooling
variant, the guides' patterns run, weights load from a path and from the cache, and the
errors are Keras's. The comparison with real Keras is tests/test_applications_interop.py."""

import json

import numpy as np
import pytest
import webkeras as keras
from webkeras import applications, layers
from webkeras.applications import imagenet_utils

# (constructor, smallest input side it accepts, channels of its last features)
ARCHITECTURES = [
    (applications.VGG16, 32, 512),
    (applications.VGG19, 32, 512),
    (applications.ResNet50, 32, 2048),
    (applications.ResNet101, 32, 2048),
    (applications.ResNet152, 32, 2048),
    (applications.ResNet50V2, 32, 2048),
    (applications.MobileNet, 32, 1024),
    (applications.MobileNetV2, 32, 1280),
    (applications.Xception, 71, 2048),
]
IDS = [a[0].__name__ for a in ARCHITECTURES]


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A webkeras home with nothing cached, so weights="imagenet" finds no file."""
    monkeypatch.setenv("WEBKERAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(imagenet_utils, "_class_index", None)
    return tmp_path / "home" / "models"


def images(side, batch=2, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, side, side, 3)).astype("float32")


@pytest.mark.parametrize("constructor,side,channels", ARCHITECTURES, ids=IDS)
def test_builds_without_top_with_each_pooling(constructor, side, channels):
    shape = (side, side, 3)
    features = constructor(weights=None, include_top=False, input_shape=shape)
    assert len(features.output.shape) == 4 and features.output.shape[-1] == channels
    for pooling in ("avg", "max"):
        model = constructor(weights=None, include_top=False, input_shape=shape,
                            pooling=pooling)
        assert model.output.shape == (None, channels)
        assert model.count_params() == features.count_params()
    # Without an input shape the top-less network takes images of any size.
    assert constructor(weights=None, include_top=False).input.shape == (None, None, None, 3)


@pytest.mark.parametrize("constructor,side", [
    (applications.ResNet50, 32), (applications.MobileNet, 32), (applications.MobileNetV2, 32),
    (applications.Xception, 71)], ids=["ResNet50", "MobileNet", "MobileNetV2", "Xception"])
def test_top_classifies_into_classes(constructor, side):
    model = constructor(weights=None, input_shape=(side, side, 3), classes=7)
    probabilities = model.predict(images(side), verbose=0)
    assert probabilities.shape == (2, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    logits = constructor(weights=None, input_shape=(side, side, 3), classes=7,
                         classifier_activation=None).predict(images(side), verbose=0)
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_default_input_shapes_and_names():
    resnet = applications.ResNet50(weights=None)
    assert (resnet.name, resnet.input.shape, resnet.output.shape) == (
        "resnet50", (None, 224, 224, 3), (None, 1000))
    assert resnet.count_params() == 25_636_712
    xception = applications.Xception(weights=None, include_top=False, input_shape=(299, 299, 3))
    assert xception.name == "xception" and xception.output.shape == (None, 10, 10, 2048)
    mobilenet = applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(96, 96, 3))
    assert mobilenet.name == "mobilenetv2_0.35_96"


def test_functional_guide_feature_extraction():
    # The functional API guide's pattern, at a small size and without ImageNet weights.
    vgg19 = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    extractor = keras.Model(inputs=vgg19.input, outputs=[layer.output for layer in vgg19.layers])
    x = images(32)
    features = extractor(x)
    assert len(features) == len(vgg19.layers) == 22
    assert [tuple(f.shape) for f in features[1:3]] == [(2, 32, 32, 64)] * 2
    np.testing.assert_allclose(np.asarray(features[-1]), vgg19.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_transfer_learning_guide_frozen_base_trains_new_head():
    keras.utils.set_random_seed(1)
    base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3),
                                          include_top=False)
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    frozen = [w.numpy().copy() for w in base.weights]
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    x, y = images(32, batch=8), np.arange(8).reshape(8, 1) % 2
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert all(np.array_equal(w.numpy(), f) for w, f in zip(base.weights, frozen))
    assert len(model.trainable_weights) == 2


def test_input_tensor_becomes_the_model_input():
    inputs = keras.Input(shape=(32, 32, 3))
    model = applications.ResNet50(weights=None, include_top=False, input_tensor=inputs)
    assert model.inputs[0] is inputs
    # A tensor computed from an Input: the model starts at that Input, as in Keras.
    scaled = layers.Conv2D(3, 1, name="to_rgb")(inputs)
    model = applications.MobileNet(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is inputs and model.layers[1].name == "to_rgb"
    with pytest.raises(ValueError, match="`input_tensor` must be a Keras tensor"):
        applications.VGG16(weights=None, include_top=False, input_tensor=images(32))


def test_weights_from_a_path_and_from_the_cache(tmp_path, empty_cache):
    keras.utils.set_random_seed(2)
    model = applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    rng = np.random.default_rng(3)
    for variable in model.non_trainable_weights:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
    expected = model.predict(images(32), verbose=0)
    model.save_weights(tmp_path / "resnet.weights.h5")
    loaded = applications.ResNet50(weights=str(tmp_path / "resnet.weights.h5"),
                                   include_top=False, input_shape=(32, 32, 3))
    np.testing.assert_allclose(loaded.predict(images(32), verbose=0), expected, rtol=1e-6)
    # Keras's legacy `.h5` layout under Keras's file name, where get_file caches it.
    empty_cache.mkdir(parents=True)
    model.save_weights(empty_cache / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    cached = applications.ResNet50(include_top=False, input_shape=(32, 32, 3))
    np.testing.assert_allclose(cached.predict(images(32), verbose=0), expected, rtol=1e-6)


@pytest.mark.parametrize("build,file_name", [
    (lambda: applications.VGG16(include_top=False),
     "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (lambda: applications.ResNet50(include_top=False),
     "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (lambda: applications.MobileNet(include_top=False, alpha=0.5, input_shape=(128, 128, 3)),
     "mobilenet_5_0_128_tf_no_top.h5"),
    (lambda: applications.MobileNetV2(),
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"),
    (lambda: applications.Xception(weights="imagenet", input_shape=(150, 150, 3),
                                   include_top=False),
     "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"),
], ids=["vgg16", "resnet50", "mobilenet", "mobilenet_v2", "xception_guide"])
def test_missing_imagenet_weights_name_the_file_and_folder(empty_cache, build, file_name):
    with pytest.raises(ValueError) as error:
        build()
    message = str(error.value)
    assert f"'{file_name}'" in message and str(empty_cache) in message
    assert "webkeras does not download it" in message
    assert "https://storage.googleapis.com/tensorflow/keras-applications/" in message


def test_mobilenet_imagenet_on_other_sizes_warns_and_uses_224(empty_cache):
    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\)"):
        with pytest.raises(ValueError, match="mobilenet_1_0_224_tf_no_top.h5"):
            applications.MobileNet(include_top=False, input_shape=(64, 64, 3))


@pytest.mark.parametrize("kwargs,message", [
    ({"classes": 10}, "If using `weights='imagenet'` with `include_top=True`, `classes` "
                      "should be 1000.  Received classes=10"),
    ({"weights": "no/such/file.h5"}, "The `weights` argument should be either `None`"),
    ({"weights": None, "input_shape": (31, 40, 3), "include_top": False},
     "Input size must be at least 32x32; Received: input_shape=\\(31, 40, 3\\)"),
    ({"weights": None, "input_shape": (32, 32)}, "`input_shape` must be a tuple of three"),
    ({"input_shape": (64, 64, 3)}, "When setting `include_top=True` and loading `imagenet` "
                                   "weights, `input_shape` should be \\(224, 224, 3\\)"),
    ({"input_shape": (64, 64, 1), "include_top": False}, "The input must have 3 channels"),
    ({"weights": None, "input_shape": (None, None, 3)},
     "If `include_top` is True, you should specify a static `input_shape`"),
])
def test_argument_errors_are_keras_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        applications.ResNet50(**kwargs)


def test_pretrained_classifier_activation_is_softmax_or_none(tmp_path):
    path = tmp_path / "mobilenet.weights.h5"
    applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=3).save_weights(path)
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        applications.MobileNetV2(weights=str(path), input_shape=(32, 32, 3), classes=3,
                                 classifier_activation="relu")


def test_decode_predictions(empty_cache):
    preds = np.random.default_rng(4).uniform(size=(2, 1000)).astype("float32")
    with pytest.raises(ValueError, match="'imagenet_class_index.json' is not in the cache"):
        applications.resnet50.decode_predictions(preds)
    with pytest.raises(ValueError, match="expects a batch of predictions"):
        applications.resnet50.decode_predictions(preds[:, :10])
    empty_cache.mkdir(parents=True, exist_ok=True)
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (empty_cache / "imagenet_class_index.json").write_text(json.dumps(index))
    decoded = applications.resnet50.decode_predictions(preds, top=3)
    for row, guesses in zip(preds, decoded):
        best = np.argsort(row)[::-1][:3]
        assert guesses == [(f"n{i:08d}", f"class_{i}", row[i]) for i in best]


def test_preprocess_input_modes():
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (2, 4, 4, 3)).astype("float32")
    caffe = pixels[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")
    torch = (pixels / 255 - np.array([0.485, 0.456, 0.406], "float32")) / np.array(
        [0.229, 0.224, 0.225], "float32")
    for preprocess, expected in [(applications.vgg16.preprocess_input, caffe),
                                 (applications.resnet50.preprocess_input, caffe),
                                 (applications.mobilenet_v2.preprocess_input, pixels / 127.5 - 1),
                                 (applications.xception.preprocess_input, pixels / 127.5 - 1)]:
        np.testing.assert_allclose(preprocess(pixels.copy()), expected, rtol=1e-5, atol=1e-4)
        # A tensor gives what the NumPy array gives, without changing the input.
        tensor = keras.ops.convert_to_tensor(pixels)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(preprocess(tensor)), expected,
                                   rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        imagenet_utils.preprocess_input(pixels.copy(), mode="torch"), torch, rtol=1e-5)
    # channels_first: the channel axis is 1 (or 0 for one image).
    first = np.moveaxis(pixels, -1, 1).copy()
    np.testing.assert_allclose(
        imagenet_utils.preprocess_input(first.copy(), data_format="channels_first"),
        np.moveaxis(caffe, -1, 1), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        imagenet_utils.preprocess_input(first[0].copy(), data_format="channels_first"),
        np.moveaxis(caffe[0], -1, 0), rtol=1e-5, atol=1e-4)
    # Like Keras: a float array is changed in place; integers are converted to float32.
    in_place = pixels.copy()
    applications.xception.preprocess_input(in_place)
    np.testing.assert_allclose(in_place, pixels / 127.5 - 1, rtol=1e-6)
    converted = applications.vgg16.preprocess_input(pixels.astype("uint8"))
    assert converted.dtype == np.float32
    np.testing.assert_allclose(converted, caffe, rtol=1e-5, atol=1e-4)


def test_preprocess_input_inside_a_model():
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs)
    model = keras.Model(inputs, x)
    pixels = np.random.default_rng(6).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(pixels, verbose=0), pixels / 127.5 - 1,
                               rtol=1e-5, atol=1e-6)


def test_preprocess_input_argument_errors():
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or `torch`"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="bgr")
    with pytest.raises(ValueError, match="Expected data_format to be one of"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), data_format="nhwc")


def test_module_aliases_as_in_keras():
    assert keras.applications.vgg16.VGG16 is keras.applications.VGG16
    assert keras.applications.vgg19.VGG19 is keras.applications.VGG19
    assert keras.applications.resnet50.ResNet50 is keras.applications.resnet.ResNet50
    assert keras.applications.resnet_v2.ResNet50V2 is keras.applications.ResNet50V2
    assert keras.applications.mobilenet.MobileNet is keras.applications.MobileNet
    assert keras.applications.mobilenet_v2.MobileNetV2 is keras.applications.MobileNetV2
    assert keras.applications.xception.Xception is keras.applications.Xception
    assert keras.applications.resnet50.decode_predictions is \
        keras.applications.imagenet_utils.decode_predictions
