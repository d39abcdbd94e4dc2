"""File-to-file conversion behind `webkeras convert`: Keras files <-> TF.js directories."""

import json
import os

from webkeras.saving.architecture import model_from_file_config
from webkeras.saving.tfjs import format as fmt
from webkeras.saving.tfjs import layers_model
from webkeras.utils import file_limits

KERAS_SUFFIX = ".keras"
WEIGHTS_SUFFIX = ".weights.h5"
H5_SUFFIXES = (".h5", ".hdf5")


def _is_tfjs(path):
    return os.path.basename(path) == fmt.MODEL_JSON or (
        os.path.isdir(path) and os.path.isfile(os.path.join(path, fmt.MODEL_JSON)))


def _architecture(config_path):
    """A model (random weights) from a Keras `to_json()` file or a TF.js model.json."""
    if config_path is None:
        raise ValueError("A `.weights.h5` file holds no architecture: pass `--config FILE` "
                         "(the model's `model.to_json()` or a TF.js model.json).")
    if _is_tfjs(config_path):
        artifact, path = layers_model.read_model_json(config_path)
        return model_from_file_config(artifact.get(fmt.TOPOLOGY_KEY),
                                      source=f"'{path}' `{fmt.TOPOLOGY_KEY}`")
    file_limits.check("config_bytes", os.path.getsize(config_path), f"'{config_path}'")
    with open(config_path, "rb") as f:
        source = f"'{config_path}'"
        return model_from_file_config(file_limits.load_json(f.read(), source), source=source)


def _load_keras(path, config_path):
    from webkeras.saving import load_model

    if path.endswith(WEIGHTS_SUFFIX):
        model = _architecture(config_path)
        model.load_weights(path)
        return model
    return load_model(path, compile=False)


def convert(src, dst, quantize=None, shard_size=fmt.DEFAULT_SHARD_SIZE, weights_only=False,
            config=None):
    """Converts `src` to `dst`; the direction follows the names.

    `.keras` / `.h5` / `.weights.h5` (with `config`) -> TF.js directory `dst`;
    TF.js `model.json` (or its directory) -> `.keras`, `.h5` or `.weights.h5`.

    Returns:
        The path written.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    if not os.path.exists(src):
        raise FileNotFoundError(f"Input not found: {src}")
    if _is_tfjs(src):
        model = layers_model.load_tfjs(src, model=_architecture(config) if config else None)
        if dst.endswith(WEIGHTS_SUFFIX) or weights_only:
            model.save_weights(dst)
        elif dst.endswith((KERAS_SUFFIX,) + H5_SUFFIXES):
            model.save(dst)
        else:
            raise ValueError(f"Output '{dst}': a TF.js model converts to `.keras`, `.h5` or "
                             "`.weights.h5`; name the output file with one of those.")
        return dst
    if quantize is not None and quantize not in fmt.QUANTIZE_DTYPES:
        raise ValueError(f"--quantize must be one of {list(fmt.QUANTIZE_DTYPES)}.")
    if not src.endswith((KERAS_SUFFIX,) + H5_SUFFIXES):
        raise ValueError(f"Input '{src}': expected a `.keras`, `.h5` or `.weights.h5` file, "
                         f"or a TF.js `{fmt.MODEL_JSON}` (or its directory).")
    if os.path.isfile(dst):
        raise ValueError(f"Output '{dst}' is a file; a TF.js model is written to a directory.")
    model = _load_keras(src, config)
    return layers_model.save_tfjs(model, dst, quantize, shard_size, weights_only)


def summary(path):
    """A short dict describing a written TF.js model.json (for the CLI)."""
    with open(path, encoding="utf8") as f:
        artifact = json.load(f)
    groups = artifact[fmt.MANIFEST_KEY]
    return {"model_json": path, "shards": sum(len(g[fmt.PATHS_KEY]) for g in groups),
            "weights": sum(len(g[fmt.WEIGHTS_KEY]) for g in groups)}
