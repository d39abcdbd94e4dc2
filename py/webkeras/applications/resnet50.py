"""`keras.applications.resnet50`: the ResNet50 of `keras.applications.resnet`."""

from webkeras.applications.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
