"""keras.saving: weights files in Keras 3's `.weights.h5` layout."""

from webkeras.saving.weights_h5 import load_weights, save_weights  # noqa: F401
