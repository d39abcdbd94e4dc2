"""What every application shares: argument checks, the image input, the top or the pooling,
and the model with its weights loaded."""

import os

from webkeras import backend, layers
from webkeras.applications import imagenet_utils
from webkeras.models import Functional


def check_arguments(weights, include_top, classes):
    """Keras's checks of `weights` and of `classes` with ImageNet weights."""
    is_file = isinstance(weights, (str, os.PathLike)) and os.path.exists(weights)
    if not (weights in ("imagenet", None) or is_file):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
            f"loaded.  Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be "
            f"1000.  Received classes={classes}"
        )


def channel_axis():
    return 1 if backend.image_data_format() == "channels_first" else -1


def image_input(input_tensor, input_shape):
    """The model's image input: `input_tensor` when given, else a new `keras.Input`."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, layers.KerasTensor):
        raise ValueError(
            "`input_tensor` must be a Keras tensor (from `keras.Input()` or a layer's "
            f"output). Received: input_tensor of type {type(input_tensor).__name__}"
        )
    return input_tensor


def classifier(x, classes, classifier_activation, weights):
    """The Dense classifier on pooled features, named "predictions" as in Keras."""
    imagenet_utils.validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def pool(x, pooling, avg_name=None, max_name=None):
    """The optional global pooling of the features when the top is left out."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def build_model(input_tensor, img_input, outputs, name, weights, imagenet_file=None):
    """The Functional model, its weights loaded from `weights` (a path) or, for
    `"imagenet"`, from `imagenet_file` = (Keras's file name, its URL) in the cache."""
    inputs = img_input if input_tensor is None else source_inputs(input_tensor)
    model = Functional(inputs, outputs, name=name)
    if weights == "imagenet":
        model.load_weights(imagenet_utils.pretrained_file(*imagenet_file))
    elif weights is not None:
        model.load_weights(weights)
    return model


def source_inputs(tensor):
    """The `keras.Input` tensors that `tensor` is computed from, in first-seen order."""
    found, pending, seen = [], [tensor], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        operation, node_index, _ = current._keras_history
        node = operation._inbound_nodes[node_index]
        if node.is_input:
            found.append(current)
        else:
            pending.extend(reversed(node.input_tensors))
    return found if len(found) > 1 else found[0]
