"""Keras 3's `.keras` zip: `metadata.json`, `config.json`, `model.weights.h5`.

Members are read in memory by their fixed names, never extracted; a member path that would
escape a folder, or a symbolic link, is still refused (only a crafted file has one), and
declared sizes are checked before anything is read.
"""

import datetime
import io
import json
import os
import stat
import tempfile
import zipfile
import zlib

from webkeras.layers.serialization import jsonable, serialize_layer
from webkeras.saving import compile_config, weights_h5
from webkeras.saving.architecture import model_from_file_config
from webkeras.utils import file_errors, file_limits, object_registry
from webkeras.utils.file_errors import ModelFileError, UnsafeContentError
from webkeras.utils.safe_mode import safe_mode_scope
from webkeras.utils.serialization_lib import serialize_keras_object

KERAS_SUFFIX = ".keras"
CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"
# The folder of the archive where layers' `save_assets` files go, under each layer's path.
ASSETS_DIRNAME = "assets"
# Written into metadata.json / .h5 attributes: the Keras release whose format we follow.
KERAS_VERSION = "3.15.1"
KERAS_VERSION_KEY = "keras_version"
DATE_SAVED_KEY = "date_saved"
BUILD_CONFIG_KEY = "build_config"
# Members bigger than this are checked for their compression ratio (a zip bomb).
RATIO_CHECK_BYTES = 1024 ** 2

def model_config_dict(model):
    config = jsonable(serialize_layer(model))
    compiled = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if compiled is not None:
        config[compile_config.COMPILE_CONFIG_KEY] = jsonable(serialize_keras_object(compiled))
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
            _write_assets(zf, model)

    return weights_h5.atomic_write(filepath, write, overwrite)


def _asset_layers(model):
    """(path, layer) for every layer under `model` that has Keras 3's `save_assets` hook."""
    return [(path, obj) for path, obj in weights_h5.iter_state(model)
            if hasattr(obj, "save_assets")]


def _write_assets(zf, model):
    """Lets each layer with `save_assets(dir_path)` write files into a folder of its own,
    stored in the archive as `assets/<layer path>/...` (Keras 3's layout)."""
    for path, layer in _asset_layers(model):
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for root, _, names in os.walk(folder):
                for name in sorted(names):
                    full = os.path.join(root, name)
                    inner = os.path.relpath(full, folder).replace(os.sep, "/")
                    zf.write(full, "/".join(p for p in (ASSETS_DIRNAME, path, inner) if p))


def _load_assets(model, assets):
    """Writes the archive's `assets/` members (name -> bytes) into a temporary folder and
    calls each layer's `load_assets` with its own folder there."""
    layers = [(path, obj) for path, obj in weights_h5.iter_state(model)
              if hasattr(obj, "load_assets")]
    if not layers:
        return
    with tempfile.TemporaryDirectory() as folder:
        for name, data in assets.items():
            target = os.path.join(folder, *name.split("/")[1:])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
        for path, layer in layers:
            layer_folder = os.path.join(folder, *path.split("/"))
            os.makedirs(layer_folder, exist_ok=True)
            layer.load_assets(layer_folder)


def _read_member(zf, name, source, unpacked):
    """The bytes of member `name`, its declared size checked against the file limits first.

    `unpacked` is the running total of bytes unpacked from this archive (a one-item list).
    """
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(f"{source} is not a Keras model file: the archive has no "
                             f"'{name}' (members: {zf.namelist()[:10]}).") from None
    where = f"{source} member '{name}'"
    limit = "config_bytes" if name.endswith(".json") else "member_bytes"
    file_limits.check(limit, info.file_size, where)
    if info.file_size > RATIO_CHECK_BYTES:
        file_limits.check("compression_ratio", info.file_size // max(info.compress_size, 1),
                          where)
    unpacked[0] += info.file_size
    file_limits.check("unpacked_bytes", unpacked[0], source)
    try:
        # zipfile stops at the declared size, so a member cannot unpack to more than that.
        return zf.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError, zlib.error) as error:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        raise ModelFileError(f"{where} is unreadable (truncated, corrupted or encrypted "
                             f"archive): {error}") from None


def _check_member_names(zf, source):
    """Refuses members whose names would land outside a folder they were extracted to, and
    symbolic links: nothing reads them here, but a file carrying them is crafted, and a tool
    that extracts the archive (Keras's assets) would follow them."""
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise UnsafeContentError(
                f"{source} has an archive member named {name!r}, which points outside the "
                "archive's folder (absolute, drive-letter or '..' path). A `.keras` file "
                "holds only config.json, metadata.json, model.weights.h5 and assets/.")
        if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeContentError(f"{source} has an archive member {name!r} that is a "
                                     "symbolic link; a `.keras` file holds none.")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds the model saved in a `.keras` file, with weights and optimizer state."""
    h5py = weights_h5._h5py()
    filepath = os.fspath(filepath) if not hasattr(filepath, "read") else filepath
    source = f"'{filepath}'"
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as error:
        # NotImplementedError: a zip format version or feature zipfile does not read.
        raise ModelFileError(f"{source} is not a readable `.keras` zip file (truncated or "
                             f"corrupted?): {error}") from None
    unpacked = [0]
    with zf:
        _check_member_names(zf, source)
        config = file_limits.load_json(_read_member(zf, CONFIG_FILENAME, source, unpacked),
                                       f"{source} member '{CONFIG_FILENAME}'")
        file_limits.load_json(_read_member(zf, METADATA_FILENAME, source, unpacked),
                              f"{source} member '{METADATA_FILENAME}'")
        weights = _read_member(zf, VARS_FILENAME, source, unpacked)
        assets = {name: _read_member(zf, name, source, unpacked) for name in zf.namelist()
                  if name.startswith(ASSETS_DIRNAME + "/") and not name.endswith("/")}
    model = model_from_file_config(config, custom_objects, safe_mode,
                                   f"{source} member '{CONFIG_FILENAME}'")
    with file_errors.reading(source):
        compiled = config.get(compile_config.COMPILE_CONFIG_KEY)
        if compile and compiled:
            # As Keras 3: a custom `compile_from_config` finds custom objects in scope.
            with object_registry.custom_object_scope(custom_objects), \
                    safe_mode_scope(safe_mode):
                model.compile_from_config(compiled)
        with weights_h5.open_h5(io.BytesIO(weights), h5py,
                                name=f"{source} member '{VARS_FILENAME}'") as f:
            weights_h5.read_state(f, model, source=source)
        _load_assets(model, assets)
    return model
