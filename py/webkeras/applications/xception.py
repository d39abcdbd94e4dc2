"""`keras.applications.xception`: Xception.

Reference: [Xception: Deep Learning with Depthwise Separable Convolutions](
https://arxiv.org/abs/1610.02357) (CVPR 2017). Default input 299x299, at least 71x71; inputs
are preprocessed with `preprocess_input` (tf mode).
"""

from webkeras import backend, layers
from webkeras.applications import builder, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """Instantiates the Xception architecture.

    Args:
        include_top: whether to include the fully-connected layer at the top.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet,
            read from the cache; see `imagenet_utils`), or the path to a weights file.
        input_tensor: optional Keras tensor (output of `keras.Input()`) to use as the input.
        input_shape: only with `include_top=False` (else it must be `(299, 299, 3)`):
            3 channels, height and width at least 71.
        pooling: with `include_top=False`: None (4D features), `"avg"` or `"max"`.
        classes: number of classes, with `include_top=True` and no `weights`.
        classifier_activation: the top layer's activation; None returns logits.
        name: the model's name.

    Returns:
        A `Model` instance.

    Example (the transfer learning guide):

    ```python
    base = keras.applications.Xception(weights="imagenet", input_shape=(150, 150, 3),
                                       include_top=False)
    base.trainable = False
    ```
    """
    builder.check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=299, min_size=71, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    axis = builder.channel_axis()
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    # Entry flow: blocks 2-4; block 2 starts from the stem's activation, so no relu first.
    for block, filters in ((2, 128), (3, 256), (4, 728)):
        x = _downsampling_block(x, f"block{block}", (filters, filters), relu_first=block > 2)
    # Middle flow: blocks 5-12, three separable convolutions and an identity shortcut.
    for block in range(5, 13):
        residual = x
        for conv in (1, 2, 3):
            x = layers.Activation("relu", name=f"block{block}_sepconv{conv}_act")(x)
            x = _separable_bn(x, 728, f"block{block}_sepconv{conv}")
        x = layers.add([x, residual])
    # Exit flow.
    x = _downsampling_block(x, "block13", (728, 1024), relu_first=True)
    for conv, filters in ((1, 1536), (2, 2048)):
        x = _separable_bn(x, filters, f"block14_sepconv{conv}")
        x = layers.Activation("relu", name=f"block14_sepconv{conv}_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = builder.classifier(x, classes, classifier_activation, weights)
    else:
        x = builder.pool(x, pooling)
    file_name = ("xception_weights_tf_dim_ordering_tf_kernels"
                 f"{'' if include_top else '_notop'}.h5")
    return builder.build_model(input_tensor, img_input, x, name, weights,
                               (file_name, BASE_WEIGHTS_PATH + file_name))


def _separable_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=builder.channel_axis(), name=f"{name}_bn")(x)


def _downsampling_block(x, prefix, filters, relu_first):
    """Two separable convolutions and a strided max pool, plus a strided 1x1 shortcut."""
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same",
                             use_bias=False)(x)
    residual = layers.BatchNormalization(axis=builder.channel_axis())(residual)
    if relu_first:
        x = layers.Activation("relu", name=f"{prefix}_sepconv1_act")(x)
    x = _separable_bn(x, filters[0], f"{prefix}_sepconv1")
    # Keras names block 2's middle activation "block2_sepconv2_act" too.
    x = layers.Activation("relu", name=f"{prefix}_sepconv2_act")(x)
    x = _separable_bn(x, filters[1], f"{prefix}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"{prefix}_pool")(x)
    return layers.add([x, residual])


def preprocess_input(x, data_format=None):
    """Tf-mode preprocessing: pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
