"""`keras.applications.resnet`: ResNet50, ResNet101, ResNet152, and the ResNet builder that
ResNet V2 shares.

Reference: [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385)
(CVPR 2015). Default input 224x224, at least 32x32; inputs are preprocessed with
`preprocess_input` (caffe mode).
"""

from webkeras import backend, layers
from webkeras.applications import builder, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
BN_EPSILON = 1.001e-5
# (filters, blocks) of the stacks conv2 to conv5.
V1_STACKS = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}
STACK_FILTERS = (64, 128, 256, 512)


def ResNet(stack_fn, preact, use_bias, include_top=True, weights="imagenet",
           input_tensor=None, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax", name="resnet", weights_name=None):
    """A ResNet: the stem, `stack_fn(x)` for the residual stacks, then the top or pooling.

    `preact` selects V2 (batch normalization before the convolutions); `weights_name`
    names Keras's ImageNet weights files (`"resnet50"`, `"resnet50v2"`, ...).
    """
    builder.check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = batch_norm(x, "conv1_bn")
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = batch_norm(x, "post_bn")
        x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = builder.classifier(x, classes, classifier_activation, weights)
    else:
        x = builder.pool(x, pooling, "avg_pool", "max_pool")
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels"
    file_name += ".h5" if include_top else "_notop.h5"
    return builder.build_model(input_tensor, img_input, x, name, weights,
                               (file_name, BASE_WEIGHTS_PATH + file_name))


def batch_norm(x, name):
    return layers.BatchNormalization(axis=builder.channel_axis(), epsilon=BN_EPSILON,
                                     name=name)(x)


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A bottleneck block: 1x1, `kernel_size`, 1x1 (4 * `filters`) convolutions + shortcut."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = batch_norm(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = batch_norm(x, f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """`blocks` V1 blocks; the first one strides by `stride1` and has a conv shortcut."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _resnet_v1(weights_name, include_top, weights, input_tensor, input_shape, pooling,
               classes, classifier_activation, name):
    def stack_fn(x):
        for stack, (filters, blocks) in enumerate(zip(STACK_FILTERS, V1_STACKS[weights_name])):
            x = stack_residual_blocks_v1(x, filters, blocks, stride1=1 if stack == 0 else 2,
                                         name=f"conv{stack + 2}")
        return x

    return ResNet(stack_fn, preact=False, use_bias=True, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes,
                  classifier_activation=classifier_activation, name=name,
                  weights_name=weights_name)


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="resnet50"):
    """Instantiates the ResNet50 architecture.

    Args:
        include_top: whether to include the fully-connected layer at the top.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet,
            read from the cache; see `imagenet_utils`), or the path to a weights file.
        input_tensor: optional Keras tensor (output of `keras.Input()`) to use as the input.
        input_shape: only with `include_top=False` (else it must be `(224, 224, 3)`):
            3 channels, height and width at least 32.
        pooling: with `include_top=False`: None (4D features), `"avg"` or `"max"`.
        classes: number of classes, with `include_top=True` and no `weights`.
        classifier_activation: the top layer's activation; None returns logits.
        name: the model's name.

    Returns:
        A `Model` instance.
    """
    return _resnet_v1("resnet50", include_top, weights, input_tensor, input_shape, pooling,
                      classes, classifier_activation, name)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet101"):
    """Instantiates the ResNet101 architecture; the arguments are those of `ResNet50`."""
    return _resnet_v1("resnet101", include_top, weights, input_tensor, input_shape, pooling,
                      classes, classifier_activation, name)


def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", name="resnet152"):
    """Instantiates the ResNet152 architecture; the arguments are those of `ResNet50`."""
    return _resnet_v1("resnet152", include_top, weights, input_tensor, input_shape, pooling,
                      classes, classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Caffe-mode preprocessing: RGB to BGR, each channel zero-centred on ImageNet."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
