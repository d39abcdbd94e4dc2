"""`keras.applications`: the Keras architectures with Keras's layer names and weight order,
so weights saved by Keras load. `weights="imagenet"` reads Keras's pretrained files from the
cache (`$WEBKERAS_HOME/models`), never from the internet; see `imagenet_utils`."""

# ruff: noqa: F401  (re-exports)
from webkeras.applications import (
    imagenet_utils,
    mobilenet,
    mobilenet_v2,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from webkeras.applications.mobilenet import MobileNet
from webkeras.applications.mobilenet_v2 import MobileNetV2
from webkeras.applications.resnet import ResNet50, ResNet101, ResNet152
from webkeras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from webkeras.applications.vgg16 import VGG16
from webkeras.applications.vgg19 import VGG19
from webkeras.applications.xception import Xception
