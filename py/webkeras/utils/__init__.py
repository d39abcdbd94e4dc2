"""keras.utils."""

from webkeras.utils.random_state import set_random_seed  # noqa: F401


def to_categorical(x, num_classes=None):
    import numpy as np

    x = np.asarray(x, dtype="int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    num_classes = int(num_classes or x.max() + 1)
    return np.eye(num_classes, dtype="float32")[x]
