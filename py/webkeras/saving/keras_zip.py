"""Keras 3's `.keras` zip: `metadata.json`, `config.json`, `model.weights.h5`.

Members are read in memory by their fixed names, never extracted, so a member path that
escapes a directory is harmless; declared sizes are checked before anything is read.
"""

import datetime
import io
import json
import os
import zipfile

from webkeras.saving import compile_config, weights_h5

KERAS_SUFFIX = ".keras"
CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"
# Written into metadata.json / .h5 attributes: the Keras release whose format we follow.
KERAS_VERSION = "3.15.1"
KERAS_VERSION_KEY = "keras_version"
DATE_SAVED_KEY = "date_saved"
BUILD_CONFIG_KEY = "build_config"
# Refuse members that declare more than this (a zip bomb, or a file that is not ours).
MAX_MEMBER_BYTES = 4 * 1024 ** 3
MAX_JSON_BYTES = 256 * 1024 ** 2


def model_config_dict(model):
    from webkeras.models.model_config import _jsonable, serialize_layer

    config = _jsonable(serialize_layer(model))
    compiled = compile_config.get_compile_config(model)
    if compiled is not None:
        config[compile_config.COMPILE_CONFIG_KEY] = _jsonable(compiled)
    return config


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes `model` to a `.keras` zip at `filepath`, atomically."""
    h5py = weights_h5._h5py()
    config = json.dumps(model_config_dict(model))
    metadata = json.dumps({KERAS_VERSION_KEY: KERAS_VERSION,
                           DATE_SAVED_KEY: datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        weights_h5.write_state(f, model, include_optimizer=include_optimizer
                               and weights_h5._optimizer_built(model))

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(METADATA_FILENAME, metadata)
            zf.writestr(CONFIG_FILENAME, config)
            zf.writestr(VARS_FILENAME, weights.getvalue())

    return weights_h5.atomic_write(filepath, write, overwrite)


def _read_member(zf, name, filepath, limit):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(f"'{filepath}' is not a Keras model file: the archive has no "
                         f"'{name}' (members: {zf.namelist()[:10]}).") from None
    if info.file_size > limit:
        raise ValueError(f"'{filepath}': member '{name}' declares {info.file_size} bytes, "
                         f"over the {limit}-byte limit; the file is damaged or not a model.")
    try:
        data = zf.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ValueError(f"'{filepath}': member '{name}' is unreadable (truncated or "
                         f"corrupted archive): {error}") from None
    return data


def _read_json(zf, name, filepath):
    data = _read_member(zf, name, filepath, MAX_JSON_BYTES)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"'{filepath}': '{name}' is not valid JSON: {error}") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds the model saved in a `.keras` file, with weights and optimizer state."""
    from webkeras.layers.core.lambda_layer import safe_mode_scope
    from webkeras.models.model_config import deserialize_layer

    h5py = weights_h5._h5py()
    filepath = os.fspath(filepath) if not hasattr(filepath, "read") else filepath
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"'{filepath}' is not a readable `.keras` zip file (truncated or "
                         f"corrupted?): {error}") from None
    with zf:
        config = _read_json(zf, CONFIG_FILENAME, filepath)
        _read_json(zf, METADATA_FILENAME, filepath)
        weights = _read_member(zf, VARS_FILENAME, filepath, MAX_MEMBER_BYTES)
    if not isinstance(config, dict):
        raise ValueError(f"'{filepath}': '{CONFIG_FILENAME}' must hold a JSON object.")
    try:
        with safe_mode_scope(safe_mode):
            model = deserialize_layer(config, custom_objects)
    except (MemoryError, OverflowError) as error:
        raise ValueError(f"'{filepath}': the architecture in '{CONFIG_FILENAME}' is too "
                         f"large to build ({type(error).__name__}: {error}).") from None
    except (TypeError, ValueError, KeyError) as error:
        raise type(error)(f"Could not load the model in '{filepath}': {error}") from None
    compiled = config.get(compile_config.COMPILE_CONFIG_KEY)
    if compile and compiled:
        compile_config.compile_from_config(model, compiled, custom_objects)
    with weights_h5.open_h5(io.BytesIO(weights), h5py,
                            name=f"'{filepath}' member '{VARS_FILENAME}'") as f:
        weights_h5.read_state(f, model, source=f"'{filepath}'")
    return model
