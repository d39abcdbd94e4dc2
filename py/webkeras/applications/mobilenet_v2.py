"""`keras.applications.mobilenet_v2`: MobileNetV2.

Reference: [MobileNetV2: Inverted Residuals and Linear Bottlenecks](
https://arxiv.org/abs/1801.04381) (CVPR 2018). Default input 224x224, at least 32x32; inputs
are preprocessed with `preprocess_input` (tf mode).
"""

from webkeras import backend, layers
from webkeras.applications import builder, imagenet_utils
from webkeras.applications.mobilenet import imagenet_rows, imagenet_size

BASE_WEIGHT_PATH = (
    "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
)
IMAGENET_SIZES = (96, 128, 160, 192, 224)
IMAGENET_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of the inverted residual blocks 0 to 16.
BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
          (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
          (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))
BN = {"epsilon": 1e-3, "momentum": 0.999}


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=None):
    """Instantiates the MobileNetV2 architecture.

    Args:
        input_shape: only with `include_top=False` (else `(224, 224, 3)`, or one of 96,
            128, 160, 192 square with ImageNet weights); 3 channels, at least 32x32.
        alpha: width multiplier of every layer's filters (ImageNet weights: 0.35, 0.5,
            0.75, 1.0, 1.3 or 1.4).
        include_top: whether to include the classifier at the top.
        weights: `None`, `"imagenet"` (read from the cache; see `imagenet_utils`), or the
            path to a weights file.
        input_tensor: optional Keras tensor to use as the input.
        pooling: with `include_top=False`: None, `"avg"` or `"max"`.
        classes: number of classes, with `include_top=True` and no `weights`.
        classifier_activation: the top layer's activation; None returns logits.
        name: the model's name; None gives `mobilenetv2_{alpha:0.2f}_{rows}`.

    Returns:
        A `Model` instance.
    """
    builder.check_arguments(weights, include_top, classes)
    channels_first = backend.image_data_format() == "channels_first"
    if isinstance(input_tensor, layers.KerasTensor):
        tensor_shape = tuple(input_tensor.shape[1:])
        if input_shape is None:
            input_shape_for_size = tensor_shape
        elif tensor_shape[1] != input_shape[1]:
            raise ValueError(
                f"input_tensor.shape[{1 if channels_first else 2}] must equal "
                f"input_shape[1]; Received `input_tensor.shape={input_tensor.shape}`, "
                f"`input_shape={input_shape}`")
        else:
            input_shape_for_size = input_shape
    else:
        input_shape_for_size = input_shape
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=imagenet_size(input_shape_for_size, IMAGENET_SIZES),
        min_size=32, data_format=backend.image_data_format(), require_flatten=include_top,
        weights=weights)
    rows = input_shape[1] if channels_first else input_shape[0]
    if weights == "imagenet":
        if alpha not in IMAGENET_ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                             "`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                             f"`alpha={alpha}`")
        rows = imagenet_rows(input_shape, IMAGENET_SIZES)
    img_input = builder.image_input(input_tensor, input_shape)
    axis = builder.channel_axis()
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2),
                      padding="same", use_bias=False, name="Conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="bn_Conv1", **BN)(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    # Only alpha > 1 widens the last convolution.
    last_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=axis, name="Conv_1_bn", **BN)(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = builder.classifier(x, classes, classifier_activation, weights)
    else:
        x = builder.pool(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    file_name = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
                 f"{'' if include_top else '_no_top'}.h5")
    return builder.build_model(input_tensor, img_input, x, name, weights,
                               (file_name, BASE_WEIGHT_PATH + file_name))


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """Expand (1x1), depthwise 3x3, project (1x1, linear); a residual add when shapes agree."""
    axis = builder.channel_axis()
    in_channels = inputs.shape[axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same",
                          use_bias=False, activation=None, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=axis, name=f"{prefix}expand_BN", **BN)(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3),
                                 name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=axis, name=f"{prefix}depthwise_BN", **BN)(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
                      activation=None, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=axis, name=f"{prefix}project_BN", **BN)(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v, divisor, min_value=None):
    """`v` rounded to a multiple of `divisor`, never more than 10% below `v`."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def preprocess_input(x, data_format=None):
    """Tf-mode preprocessing: pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
