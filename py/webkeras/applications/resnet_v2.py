"""`keras.applications.resnet_v2`: ResNet50V2, ResNet101V2, ResNet152V2.

Reference: [Identity Mappings in Deep Residual Networks](https://arxiv.org/abs/1603.05027)
(ECCV 2016). Default input 224x224, at least 32x32; inputs are preprocessed with
`preprocess_input` (tf mode).
"""

from webkeras import layers
from webkeras.applications import imagenet_utils
from webkeras.applications.resnet import STACK_FILTERS, ResNet, batch_norm

V2_STACKS = {"resnet50v2": (3, 4, 6, 3), "resnet101v2": (3, 4, 23, 3),
             "resnet152v2": (3, 8, 36, 3)}


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck block; it strides in its 3x3 convolution."""
    preact = batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """`blocks` V2 blocks; the first has a conv shortcut, the last strides by `stride1`."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _resnet_v2(weights_name, include_top, weights, input_tensor, input_shape, pooling,
               classes, classifier_activation, name):
    def stack_fn(x):
        stacks = list(zip(STACK_FILTERS, V2_STACKS[weights_name]))
        for stack, (filters, blocks) in enumerate(stacks):
            x = stack_residual_blocks_v2(x, filters, blocks,
                                         stride1=1 if stack == len(stacks) - 1 else 2,
                                         name=f"conv{stack + 2}")
        return x

    return ResNet(stack_fn, preact=True, use_bias=True, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes,
                  classifier_activation=classifier_activation, name=name,
                  weights_name=weights_name)


def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax",
               name="resnet50v2"):
    """Instantiates the ResNet50V2 architecture; the arguments are those of
    `keras.applications.ResNet50`."""
    return _resnet_v2("resnet50v2", include_top, weights, input_tensor, input_shape,
                      pooling, classes, classifier_activation, name)


def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet101v2"):
    """Instantiates the ResNet101V2 architecture; the arguments are those of `ResNet50`."""
    return _resnet_v2("resnet101v2", include_top, weights, input_tensor, input_shape,
                      pooling, classes, classifier_activation, name)


def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="resnet152v2"):
    """Instantiates the ResNet152V2 architecture; the arguments are those of `ResNet50`."""
    return _resnet_v2("resnet152v2", include_top, weights, input_tensor, input_shape,
                      pooling, classes, classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Tf-mode preprocessing: pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
