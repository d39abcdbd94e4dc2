"""`keras.applications.vgg19`: VGG19 (VGG16 with 4 convolutions in blocks 3 to 5)."""

from webkeras.applications.vgg16 import build_vgg, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """Instantiates the VGG19 model; the arguments are those of `VGG16`."""
    return build_vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation, name)
