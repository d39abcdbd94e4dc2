"""`keras.applications.imagenet_utils`: ImageNet preprocessing, decoding and input shapes.

The pretrained files (weights, `imagenet_class_index.json`) are read from the cache that
`keras.utils.get_file` fills (`$WEBKERAS_HOME/models`, by default `~/.webkeras/models`),
under the file names Keras gives them; webkeras never downloads them itself.
"""

import json
import os
import warnings

import numpy as np

from webkeras import activations, backend, layers, ops
from webkeras.utils import download

CACHE_SUBDIR = "models"
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_PATH = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
PREPROCESS_MODES = ("caffe", "tf", "torch")
# Per channel, in the order the images are in after preprocessing (caffe: BGR).
CAFFE_MEAN = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)

_class_index = None


def pretrained_file(file_name, origin):
    """Path of a pretrained file Keras would download from `origin` into its cache.

    Raises:
        ValueError: the file is not in the cache; the message says where to put it.
    """
    path = download.cached_file_path(file_name, cache_subdir=CACHE_SUBDIR)
    if not os.path.exists(path):
        raise ValueError(
            f"The pretrained file '{file_name}' is not in the cache folder "
            f"'{os.path.dirname(path)}', and webkeras does not download it. Put it there "
            f"(download it from {origin}, or copy it from Keras's cache `~/.keras/models/`), "
            "or pass `weights=None` or `weights=<path to a weights file>`."
        )
    return path


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (a NumPy array or a tensor, 3D or 4D, values 0-255).

    Args:
        x: the images, 3 color channels. A floating-point NumPy array is changed in place,
            as in Keras (pass `numpy.copy(x)` to keep it).
        data_format: `"channels_last"` or `"channels_first"`; None means
            `keras.backend.image_data_format()`.
        mode: `"caffe"` (RGB to BGR, then each channel zero-centred on ImageNet, no
            scaling), `"tf"` (scaled to [-1, 1]) or `"torch"` (scaled to [0, 1], then each
            channel normalized with ImageNet's mean and std).

    Returns:
        The preprocessed images, float32.

    Raises:
        ValueError: an unknown `mode` or `data_format`.
    """
    if mode not in PREPROCESS_MODES:
        raise ValueError(
            f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}"
        )
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    if isinstance(x, layers.KerasTensor):
        # webkeras's ops do not record on symbolic tensors; a layer puts this in the graph.
        return layers.Lambda(preprocess_input,
                             arguments={"data_format": data_format, "mode": mode})(x)
    is_numpy = isinstance(x, np.ndarray)
    if is_numpy and not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx())
    elif not is_numpy:
        x = ops.cast(x, backend.floatx()) if "float" not in str(x.dtype) else x
    if mode == "tf":
        return _scale(x, 127.5, 1.0, is_numpy)
    ndim = len(x.shape)
    channel_axis = (0 if ndim == 3 else 1) if data_format == "channels_first" else ndim - 1
    channel_shape = [1] * ndim
    channel_shape[channel_axis] = 3
    if mode == "torch":
        x = _scale(x, 255.0, 0.0, is_numpy)
        mean, std = TORCH_MEAN, TORCH_STD
    else:
        x = np.flip(x, axis=channel_axis) if is_numpy else ops.flip(x, axis=channel_axis)
        mean, std = CAFFE_MEAN, None
    mean = np.reshape(np.asarray(mean, x.dtype), channel_shape)
    std = None if std is None else np.reshape(np.asarray(std, x.dtype), channel_shape)
    if not is_numpy:
        x = ops.subtract(x, mean)
        return x if std is None else ops.divide(x, std)
    # In place, as Keras does on NumPy input (the flip above is a view of it).
    x -= mean
    if std is not None:
        x /= std
    return x


def _scale(x, divisor, offset, in_place):
    if not in_place:
        return ops.subtract(ops.divide(x, divisor), offset)
    x /= divisor
    x -= offset
    return x


def decode_predictions(preds, top=5):
    """Decodes the predictions of an ImageNet model.

    Args:
        preds: a batch of predictions, shape `(samples, 1000)`.
        top: how many top guesses to return per sample.

    Returns:
        One list per sample of `(class_name, class_description, score)` tuples, best first.

    Raises:
        ValueError: `preds` is not of shape `(samples, 1000)`, or `imagenet_class_index.json`
            is not in the cache.
    """
    global _class_index
    preds = ops.convert_to_numpy(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    if _class_index is None:
        with open(pretrained_file(CLASS_INDEX_FILE, CLASS_INDEX_PATH)) as f:
            _class_index = json.load(f)
    results = []
    for pred in preds:
        best = pred.argsort()[-top:][::-1]
        results.append([tuple(_class_index[str(i)]) + (pred[i],) for i in best])
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """A model's input shape: `input_shape` checked, or the default one (Keras's rules).

    Raises:
        ValueError: `input_shape` is not 3 integers, is smaller than `min_size`, lacks 3
            channels for ImageNet weights, or is not the default one with ImageNet weights
            and the top; or `require_flatten` and the shape is not static.
    """
    channels_first = data_format == "channels_first"
    channel_index = 0 if channels_first else -1
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[channel_index]
        if channels not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed "
                f"an input_shape with {channels} input channels.",
                stacklevel=3,
            )
    else:
        channels = 3
    default_shape = ((channels, default_size, default_size) if channels_first
                     else (default_size, default_size, channels))
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        if input_shape[channel_index] != 3 and weights == "imagenet":
            raise ValueError(
                f"The input must have 3 channels; Received `input_shape={input_shape}`"
            )
        spatial = input_shape[1:] if channels_first else input_shape[:2]
        if any(size is not None and size < min_size for size in spatial):
            raise ValueError(
                f"Input size must be at least {min_size}x{min_size}; Received: "
                f"input_shape={input_shape}"
            )
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            "If `include_top` is True, you should specify a static `input_shape`. "
            f"Received: input_shape={input_shape}"
        )
    return tuple(input_shape)


def correct_pad(inputs, kernel_size):
    """The zero padding before a strided 2D convolution that keeps Keras's TF-style grid."""
    spatial_axis = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[spatial_axis: spatial_axis + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """With pretrained weights the classifier's activation can only be None or softmax."""
    if weights is None:
        return
    activation = activations.get(classifier_activation)
    if activation not in (activations.get("softmax"), activations.get(None)):
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the "
            "`classifier_activation` argument when using pretrained weights, with "
            f"`include_top=True`; Received: classifier_activation={classifier_activation}"
        )
