"""`keras.saving.save_model` / `load_model`: picks the format from the file name."""

import os

from webkeras.saving import keras_zip, legacy_h5, weights_h5

# Keras 3's saving_api also holds the weights-only pair.
save_weights = weights_h5.save_weights
load_weights = weights_h5.load_weights

# A file's first bytes name its format when its name has no `.keras` / `.h5` suffix.
ZIP_SIGNATURE = b"PK\x03\x04"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Saves `model` as `.keras` (Keras 3's zip) or legacy `.h5` / `.hdf5`.

    Example:
    ```python
    model.save("model.keras")
    restored = keras.saving.load_model("model.keras")
    ```
    """
    save_format = kwargs.pop("save_format", None)
    if save_format not in (None, "keras", "h5"):
        raise ValueError(
            f"save_format={save_format!r} is not supported: webkeras saves `.keras` (Keras 3's "
            "zip) or `.h5`. Pass save_format='keras' or 'h5', or a file name ending in one "
            "of them (a TensorFlow SavedModel cannot be written).")
    if kwargs:
        raise ValueError(f"Unknown arguments to `save`: {sorted(kwargs)}")
    name = os.fspath(filepath)
    if name.endswith(keras_zip.KERAS_SUFFIX):
        return keras_zip.save_model(model, name, overwrite, include_optimizer)
    if name.endswith(weights_h5.LEGACY_SUFFIXES):
        return legacy_h5.save_model(model, name, overwrite, include_optimizer)
    # tf.keras 2: `save("name", save_format="h5")` writes that exact path; load_model tells
    # the format from the file's first bytes.
    if save_format == "h5":
        return legacy_h5.save_model(model, name, overwrite, include_optimizer)
    if save_format == "keras":
        return keras_zip.save_model(model, name, overwrite, include_optimizer)
    raise ValueError(
        "Invalid filepath extension for saving. Please add either a `.keras` extension for "
        "the native Keras format (recommended) or a `.h5` extension. Use "
        f"`model.export(filepath)` for a SavedModel. Received: filepath={name}")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved as `.keras` or legacy `.h5` (by webkeras or Keras 3).

    Code stored in the file (Lambda layers) runs only with `safe_mode=False`; custom
    classes need `custom_objects={'Name': Name}` or `register_keras_serializable`.
    """
    name = os.fspath(filepath)
    if not os.path.exists(name):
        raise FileNotFoundError(f"File not found: filepath={name}. Please ensure the file "
                                "is an accessible `.keras` zip file.")
    if name.endswith(weights_h5.LEGACY_SUFFIXES) or _starts_with(name, HDF5_SIGNATURE):
        return legacy_h5.load_model(name, custom_objects, compile, safe_mode)
    if name.endswith(keras_zip.KERAS_SUFFIX) or _starts_with(name, ZIP_SIGNATURE):
        return keras_zip.load_model(name, custom_objects, compile, safe_mode)
    raise ValueError(f"File format not supported: filepath={name}. Keras 3 only supports "
                     "V3 `.keras` files and legacy H5 format files (`.h5` extension).")


def _starts_with(path, signature):
    if os.path.isdir(path):
        return False
    with open(path, "rb") as f:
        return f.read(len(signature)) == signature
