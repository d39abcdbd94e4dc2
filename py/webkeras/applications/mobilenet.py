"""`keras.applications.mobilenet`: MobileNet (V1).

Reference: [MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications](https://arxiv.org/abs/1704.04861). Default input 224x224, at least 32x32;
inputs are preprocessed with `preprocess_input` (tf mode).
"""

import warnings

from webkeras import backend, layers
from webkeras.applications import builder, imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
IMAGENET_SIZES = (128, 160, 192, 224)
IMAGENET_ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}
# (pointwise filters, stride) of the depthwise-separable blocks 1 to 13.
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def imagenet_size(input_shape, sizes):
    """The square input size of `input_shape` if ImageNet weights exist for it, else 224."""
    if input_shape is None:
        return 224
    rows, cols = (input_shape[1:3] if backend.image_data_format() == "channels_first"
                  else input_shape[:2])
    return rows if rows == cols and rows in sizes else 224


def imagenet_rows(input_shape, sizes):
    """The input size whose ImageNet weights load: the model's own, or 224 with a warning."""
    rows, cols = (input_shape[1:3] if backend.image_data_format() == "channels_first"
                  else input_shape[:2])
    if rows == cols and rows in sizes:
        return rows
    warnings.warn(
        "`input_shape` is undefined or non-square, or `rows` is not in "
        f"{list(sizes)}. Weights for input shape (224, 224) will be loaded as the default.",
        stacklevel=3,
    )
    return 224


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3,
              include_top=True, weights="imagenet", input_tensor=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNet architecture.

    Args:
        input_shape: only with `include_top=False` (else `(224, 224, 3)`, or one of 128,
            160, 192 square with ImageNet weights); 3 channels, at least 32x32.
        alpha: width multiplier of every layer's filters (ImageNet weights: 0.25, 0.5,
            0.75 or 1.0).
        depth_multiplier: depth multiplier of the depthwise convolutions (1 for ImageNet).
        dropout: dropout rate before the classifier.
        include_top: whether to include the classifier at the top.
        weights: `None`, `"imagenet"` (read from the cache; see `imagenet_utils`), or the
            path to a weights file.
        input_tensor: optional Keras tensor to use as the input.
        pooling: with `include_top=False`: None, `"avg"` or `"max"`.
        classes: number of classes, with `include_top=True` and no `weights`.
        classifier_activation: the top layer's activation; None returns logits.
        name: the model's name; None gives `mobilenet_{alpha:0.2f}_{rows}`.

    Returns:
        A `Model` instance.
    """
    builder.check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=imagenet_size(input_shape, IMAGENET_SIZES), min_size=32,
        data_format=backend.image_data_format(), require_flatten=include_top,
        weights=weights)
    rows = input_shape[1] if backend.image_data_format() == "channels_first" else input_shape[0]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be "
                             f"1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of"
                             f"`0.25`, `0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        rows = imagenet_rows(input_shape, IMAGENET_SIZES)
    img_input = builder.image_input(input_tensor, input_shape)
    axis = builder.channel_axis()
    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
                      name="conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = _depthwise_conv_block(x, int(filters * alpha), depth_multiplier, stride, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = builder.pool(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    file_name = (f"mobilenet_{IMAGENET_ALPHAS.get(alpha)}_{rows}_tf"
                 f"{'' if include_top else '_no_top'}.h5")
    return builder.build_model(input_tensor, img_input, x, name, weights,
                               (file_name, BASE_WEIGHT_PATH + file_name))


def _depthwise_conv_block(x, filters, depth_multiplier, stride, block_id):
    """Depthwise 3x3 (strided blocks pad bottom-right first), then pointwise 1x1."""
    axis = builder.channel_axis()
    if stride != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if stride == 1 else "valid",
                               depth_multiplier=depth_multiplier, strides=(stride, stride),
                               use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def preprocess_input(x, data_format=None):
    """Tf-mode preprocessing: pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
