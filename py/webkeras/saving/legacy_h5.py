"""Legacy HDF5 (`model.save('m.h5')`), in the layout Keras 3's legacy saver writes.

File attributes `model_config` (JSON), `training_config`, `backend`, `keras_version`;
group `model_weights` with attribute `layer_names`, one group per layer (by layer name)
with attribute `weight_names` and a dataset at each of those names; group
`optimizer_weights` likewise. A weights-only `.h5` has the per-layer groups at the root.
Files from tf.keras 2 load too: their model config is the one TF.js reads (see
`saving/topology.py`), their optimizer is named "Custom>Adam".
"""

import json
import os
import warnings

import numpy as np

from webkeras.layers.serialization import jsonable, serialize_layer
from webkeras.saving import compile_config, weights_h5
from webkeras.saving.architecture import model_from_file_config
from webkeras.saving.keras_zip import KERAS_VERSION
from webkeras.saving.weight_names import ordered_variables, weight_names
from webkeras.trainers.compile_config import compile_from_config
from webkeras.utils import file_errors, file_limits
from webkeras.utils.file_errors import ModelFileError

MODEL_CONFIG_ATTR = "model_config"
MODEL_WEIGHTS_KEY = "model_weights"
OPTIMIZER_WEIGHTS_KEY = "optimizer_weights"
LAYER_NAMES_ATTR = "layer_names"
WEIGHT_NAMES_ATTR = "weight_names"
BACKEND_ATTR = "backend"
BACKEND = "numpy"
VERSION_ATTR = "keras_version"
TOP_LEVEL_KEY = "top_level_model_weights"


def _strings(values):
    # Variable-length strings, as Keras writes them; an empty list as Keras's empty array.
    return np.array(list(values), dtype=object) if values else np.array([], dtype="float64")


def _decode(values):
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _top_layers(model):
    return [layer for layer in getattr(model, "layers", []) if layer is not model]


# Keras's legacy saver writes layer entries without these keys (nested objects keep theirs).
_LEGACY_DROPPED_KEYS = ("module", "registered_name", "build_config")


def legacy_layer_config(entry):
    """A serialized layer (and the layers of a nested model) in the legacy `.h5` form."""
    entry = {k: v for k, v in entry.items() if k not in _LEGACY_DROPPED_KEYS}
    config = entry.get("config")
    if isinstance(config, dict) and isinstance(config.get("layers"), list):
        entry["config"] = dict(config, layers=[legacy_layer_config(e) for e in config["layers"]])
    return entry


def write_weights_group(group, model):
    group.attrs[BACKEND_ATTR] = BACKEND
    group.attrs[VERSION_ATTR] = KERAS_VERSION
    layers = _top_layers(model)
    group.attrs[LAYER_NAMES_ATTR] = _strings([layer.name for layer in layers])
    for layer in layers:
        sub = group.create_group(layer.name)
        variables = ordered_variables(layer)
        names = weight_names(layer, variables)
        sub.attrs[WEIGHT_NAMES_ATTR] = _strings(names)
        for name, variable in zip(names, variables):
            sub.create_dataset(name, data=np.asarray(variable.numpy()))
    group.create_group(TOP_LEVEL_KEY).attrs[WEIGHT_NAMES_ATTR] = _strings([])


def _write_optimizer(f, optimizer):
    group = f.create_group(OPTIMIZER_WEIGHTS_KEY)
    names = [f"{optimizer.name}/{v.name}" for v in optimizer.variables]
    group.attrs[WEIGHT_NAMES_ATTR] = _strings(names)
    for name, variable in zip(names, optimizer.variables):
        group.create_dataset(name, data=np.asarray(variable.numpy()))


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes `model` (config, weights, compile config, optimizer state) to `.h5`."""
    h5py = weights_h5._h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            config = legacy_layer_config(jsonable(serialize_layer(model)))
            f.attrs[MODEL_CONFIG_ATTR] = json.dumps(config)
            f.attrs[BACKEND_ATTR] = BACKEND
            f.attrs[VERSION_ATTR] = KERAS_VERSION
            training = compile_config.legacy_training_config(model)
            if training is not None:
                f.attrs[compile_config.TRAINING_CONFIG_ATTR] = json.dumps(jsonable(training))
            write_weights_group(f.create_group(MODEL_WEIGHTS_KEY), model)
            if include_optimizer and weights_h5._optimizer_built(model):
                _write_optimizer(f, model.optimizer)

    return weights_h5.atomic_write(filepath, write, overwrite)


def save_weights(model, filepath, overwrite=True):
    h5py = weights_h5._h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            write_weights_group(f, model)

    return weights_h5.atomic_write(filepath, write, overwrite)


def _read_layer(group, layer_name, source):
    names = _decode(group.attrs.get(WEIGHT_NAMES_ATTR, []))
    try:
        return [group[name] for name in names]
    except KeyError as error:
        raise ValueError(f"{source}: layer '{layer_name}' lists weight {error} in "
                         f"`{WEIGHT_NAMES_ATTR}`, but the file has no such dataset.") from None


def _pairs_by_name(file_layers, saved, layers):
    """(file index, layer, file layer name) for each layer whose name the file holds."""
    index = {}
    for layer in layers:
        index.setdefault(layer.name, []).append(layer)
    return [(k, layer, name) for k, name in enumerate(file_layers)
            for layer in index.get(name, []) if name in saved]


def _pairs_by_order(file_layers, saved, layers, source):
    """(index, layer, file layer name) pairing the layers with weights in order."""
    with_weights = [layer for layer in layers if layer.weights]
    file_with_weights = [name for name in file_layers if saved.get(name)]
    if len(with_weights) != len(file_with_weights):
        raise ValueError(
            "Layer count mismatch when loading weights from file. Model expected "
            f"{len(with_weights)} layers, found {len(file_with_weights)} saved layers "
            f"(in {source}: {file_with_weights}; model: "
            f"{[layer.name for layer in with_weights]}). Pass `by_name=True` to match "
            "layers by name.")
    return [(k, layer, name)
            for k, (layer, name) in enumerate(zip(with_weights, file_with_weights))]


def read_weights_group(group, model, skip_mismatch=False, by_name=False, source="the file"):
    """Loads legacy per-layer weights as Keras 3 does (by order, or by name).

    A layer whose weight count differs is an error, or with `by_name=True,
    skip_mismatch=True` skipped whole; a weight whose shape differs is an error, or with
    `skip_mismatch=True` skipped alone. Every shape is checked before anything is assigned.
    """
    file_layers = _decode(group.attrs.get(LAYER_NAMES_ATTR, []))
    saved = {name: _read_layer(group[name], name, source) for name in file_layers
             if name in group}
    layers = _top_layers(model)
    if by_name:
        pairs = _pairs_by_name(file_layers, saved, layers)
    else:
        pairs = _pairs_by_order(file_layers, saved, layers, source)
    assignments = []
    for k, layer, name in pairs:
        variables, values = ordered_variables(layer), saved[name]
        if len(variables) != len(values):
            counts = (f"Layer expects {len(variables)} weight(s). Received {len(values)} "
                      f"saved weight(s) (in {source})")
            if by_name and skip_mismatch:
                warnings.warn(f"Skipping loading of weights for layer #{k} (named "
                              f"{layer.name}) due to mismatch in number of weights. {counts}",
                              stacklevel=3)
                continue
            where = f"named {layer.name}" if by_name else \
                f"named {layer.name} in the current model, {name} in the save file"
            raise ValueError(f"Weight count mismatch for layer #{k} ({where}). {counts}")
        for variable, dataset in zip(variables, values):
            expected, received = tuple(variable.shape), tuple(dataset.shape)
            if expected != received:
                where = f"layer #{k} (named {layer.name})"
                weight = getattr(variable, "path", None) or variable.name
                shapes = (f"Weight expects shape {expected}. Received saved weight with "
                          f"shape {received} (in {source})")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading weights for {where} due to mismatch in "
                                  f"shape for weight {weight}. {shapes}", stacklevel=3)
                    continue
                raise ValueError(f"Shape mismatch in {where} for weight {weight}. {shapes}")
            weights_h5.check_numeric(dataset, f"Layer '{layer.name}' weight "
                                     f"'{variable.name}'", f"'{dataset.name}' ({source})")
            assignments.append((layer, variable, np.asarray(dataset[()])))
    weights_h5.assign_all(assignments)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    with file_errors.reading(f"'{filepath}'"):
        with weights_h5.open_h5(filepath) as f:
            group = f[MODEL_WEIGHTS_KEY] if MODEL_WEIGHTS_KEY in f else f
            read_weights_group(group, model, skip_mismatch, by_name, source=f"'{filepath}'")


def _read_optimizer(f, model, source):
    if OPTIMIZER_WEIGHTS_KEY not in f or getattr(model, "optimizer", None) is None:
        return
    group = f[OPTIMIZER_WEIGHTS_KEY]
    names = _decode(group.attrs.get(WEIGHT_NAMES_ATTR, []))
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    variables = optimizer.variables
    if len(names) != len(variables) or any(
            tuple(group[n].shape) != tuple(v.shape) for n, v in zip(names, variables)):
        warnings.warn(f"{source}: the saved optimizer state does not match the optimizer "
                      f"({len(names)} saved values, {len(variables)} variables); the "
                      "optimizer starts fresh.", stacklevel=3)
        return
    weights_h5.assign_all([(optimizer, v, np.asarray(group[n][()]))
                           for n, v in zip(names, variables)])


def _attr_json(f, name, filepath):
    try:
        value = f.attrs.get(name)
    except (OSError, ValueError, TypeError, KeyError) as error:
        # A damaged attribute: h5py fails while decoding it.
        raise ModelFileError(f"'{filepath}': attribute `{name}` is unreadable (a damaged "
                             f"file?): {error}") from None
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf8")
        except UnicodeDecodeError as error:
            raise ModelFileError(f"'{filepath}': attribute `{name}` is not UTF-8 text: "
                                 f"{error}") from None
    if not isinstance(value, str):
        raise ModelFileError(f"'{filepath}': attribute `{name}` should hold JSON text; found "
                             f"{type(value).__name__}.")
    return file_limits.load_json(value, f"'{filepath}' attribute `{name}`")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model from a legacy `.h5` file written by Keras (or `save_model`)."""
    filepath = os.fspath(filepath)
    source = f"'{filepath}'"
    with weights_h5.open_h5(filepath) as f:
        config = _attr_json(f, MODEL_CONFIG_ATTR, filepath)
        if config is None:
            raise ModelFileError(f"No model config found in {source} (attribute "
                             f"`{MODEL_CONFIG_ATTR}`): it holds weights only. Build the model "
                             "and call `model.load_weights(...)`.")
        model = model_from_file_config(config, custom_objects, safe_mode, source)
        with file_errors.reading(source):
            read_weights_group(f[MODEL_WEIGHTS_KEY] if MODEL_WEIGHTS_KEY in f else f, model,
                               source=source)
            training = _attr_json(f, compile_config.TRAINING_CONFIG_ATTR, filepath)
            if compile and training:
                compile_from_config(
                    model, compile_config.from_legacy_training_config(training, custom_objects),
                    custom_objects)
                _read_optimizer(f, model, source)
    return model
