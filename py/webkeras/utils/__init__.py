"""keras.utils."""

# ruff: noqa: F401  (re-exports)
import numpy as np

from webkeras.utils.download import get_file
from webkeras.utils.model_visualization import model_to_dot, plot_model
from webkeras.utils.object_registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from webkeras.utils.py_dataset import PyDataset, Sequence
from webkeras.utils.random_state import set_random_seed
from webkeras.utils.sequence_utils import pad_sequences
from webkeras.utils.serialization_lib import deserialize_keras_object, serialize_keras_object


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot matrix, as Keras does.

    A trailing axis of size 1 is dropped first; the result has shape
    `input_shape + (num_classes,)` (float32 here, float64 in Keras).
    """
    x = np.asarray(x, dtype="int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    num_classes = int(num_classes or x.max() + 1)
    return np.eye(num_classes, dtype="float32")[x]
