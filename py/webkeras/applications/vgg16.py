"""`keras.applications.vgg16`: VGG16, and the VGG builder VGG19 shares.

Reference: [Very Deep Convolutional Networks for Large-Scale Image Recognition](
https://arxiv.org/abs/1409.1556) (ICLR 2015). Default input 224x224, at least 32x32; inputs
are preprocessed with `preprocess_input` (caffe mode).
"""

from webkeras import backend, layers
from webkeras.applications import builder, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/"
BLOCK_FILTERS = (64, 128, 256, 512, 512)


def build_vgg(convs_per_block, family, include_top, weights, input_tensor, input_shape,
              pooling, classes, classifier_activation, name):
    """A VGG network with `convs_per_block[i]` 3x3 convolutions in block i + 1."""
    builder.check_arguments(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=224, min_size=32, data_format=backend.image_data_format(),
        require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    x = img_input
    for block, (filters, convs) in enumerate(zip(BLOCK_FILTERS, convs_per_block), start=1):
        for conv in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{conv}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = builder.classifier(x, classes, classifier_activation, weights)
    else:
        x = builder.pool(x, pooling)
    file_name = f"{family}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    return builder.build_model(input_tensor, img_input, x, name, weights,
                               (file_name, f"{BASE_WEIGHTS_PATH}{family}/{file_name}"))


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """Instantiates the VGG16 model.

    Args:
        include_top: whether to include the 3 fully-connected layers at the top.
        weights: `None` (random initialization), `"imagenet"` (pre-training on ImageNet,
            read from the cache; see `imagenet_utils`), or the path to a weights file.
        input_tensor: optional Keras tensor (output of `keras.Input()`) to use as the input.
        input_shape: only with `include_top=False` (else it must be `(224, 224, 3)`):
            3 channels, height and width at least 32.
        pooling: with `include_top=False`: None (4D features), `"avg"` or `"max"` (global
            pooling to 2D).
        classes: number of classes, with `include_top=True` and no `weights`.
        classifier_activation: the top layer's activation; None returns logits.
        name: the model's name.

    Returns:
        A `Model` instance.

    Example:

    ```python
    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    features = vgg.predict(images)
    ```
    """
    return build_vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Caffe-mode preprocessing: RGB to BGR, each channel zero-centred on ImageNet."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
