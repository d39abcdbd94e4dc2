"""keras.utils."""

from webkeras.utils.download import get_file  # noqa: F401
from webkeras.utils.model_visualization import model_to_dot, plot_model  # noqa: F401
from webkeras.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from webkeras.utils.random_state import set_random_seed  # noqa: F401


def serialize_keras_object(obj):
    """See `keras.saving.serialize_keras_object`."""
    from webkeras.saving import serialization_lib

    return serialization_lib.serialize_keras_object(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=None, **kwargs):
    """See `keras.saving.deserialize_keras_object`."""
    from webkeras.saving import serialization_lib

    return serialization_lib.deserialize_keras_object(config, custom_objects, safe_mode,
                                                      **kwargs)


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot matrix, as Keras does.

    A trailing axis of size 1 is dropped first; the result has shape
    `input_shape + (num_classes,)` (float32 here, float64 in Keras).
    """
    import numpy as np

    x = np.asarray(x, dtype="int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    num_classes = int(num_classes or x.max() + 1)
    return np.eye(num_classes, dtype="float32")[x]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """See `keras.preprocessing.sequence.pad_sequences`."""
    from webkeras.preprocessing.sequence import pad_sequences as pad

    return pad(sequences, maxlen=maxlen, dtype=dtype, padding=padding,
               truncating=truncating, value=value)
