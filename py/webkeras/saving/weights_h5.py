"""`.weights.h5` files in Keras 3's layout, so Keras and webkeras read each other's files.

Layout: `layers/<key>/vars/<i>` datasets (a layer's trainable variables, then its
non-trainable ones, in creation order), each `vars` group carrying the layer's name in a
`name` attribute. As in Keras 3, `<key>` is the snake-cased class name numbered in model
order (`dense`, `dense_1`, `batch_normalization`...), not the layer's own name, so weights
load into a fresh copy of the architecture. Nested models nest as
`layers/<key>/layers/<key>/vars`; the model's own variables sit in the top-level `vars`
group. Optimizer state is not written.
"""

import os

import numpy as np

from webkeras.utils.naming import to_snake_case

WEIGHTS_SUFFIX = ".weights.h5"
LAYERS_KEY = "layers"
VARS_KEY = "vars"
NAME_ATTR = "name"


def _h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            "Saving and loading `.weights.h5` files needs the `h5py` package, which is not "
            "installed. Install it with `pip install h5py` (under Pyodide: "
            "`await pyodide.loadPackage('h5py')`)."
        ) from error
    return h5py


def _check_path(filepath):
    filepath = os.fspath(filepath)
    if not filepath.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"The filename must end in `{WEIGHTS_SUFFIX}`. "
                         f"Received: filepath={filepath}")
    return filepath


def _own_variables(layer):
    variables = list(layer._layer_variables())
    return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]


def _children(layer):
    layers = getattr(layer, "layers", None)
    if layers is None:
        layers = layer._sublayers()
    return [child for child in layers if child is not layer]


def _keyed_children(layer):
    """(key, child) pairs: Keras 3's container keys, class name + per-class counter."""
    used = {}
    out = []
    for child in _children(layer):
        key = to_snake_case(type(child).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        out.append((key, child))
    return out


def _save_layer(group, layer):
    variables = group.create_group(VARS_KEY)
    variables.attrs[NAME_ATTR] = layer.name
    for i, variable in enumerate(_own_variables(layer)):
        variables.create_dataset(str(i), data=np.asarray(variable.numpy()))
    children = _keyed_children(layer)
    if children:
        layers = group.create_group(LAYERS_KEY)
        for key, child in children:
            _save_layer(layers.create_group(key), child)


def save_weights(model, filepath, overwrite=True):
    """Writes every weight of `model` to `filepath` (ending in `.weights.h5`), atomically:
    a temporary file in the same directory is renamed over `filepath` once complete."""
    h5py = _h5py()
    filepath = _check_path(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass `overwrite=True` to replace it.")
    directory, name = os.path.split(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            _save_layer(f, model)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _load_layer(group, layer, path, skip_mismatch, assignments):
    variables = _own_variables(layer)
    saved = group[VARS_KEY] if group is not None and VARS_KEY in group else {}
    if len(saved) != len(variables):
        if not skip_mismatch:
            raise ValueError(
                f"Layer '{layer.name}' expected {len(variables)} variables, but received "
                f"{len(saved)} variables during loading (at '{path}'). Expected: "
                f"{[v.name for v in variables]}"
            )
    else:
        for i, variable in enumerate(variables):
            value = np.asarray(saved[str(i)])
            if tuple(value.shape) != tuple(variable.shape):
                if skip_mismatch:
                    continue
                raise ValueError(
                    f"Layer '{layer.name}' variable '{variable.name}' has shape "
                    f"{tuple(variable.shape)}, but the file holds shape {tuple(value.shape)} "
                    f"at '{path}/{VARS_KEY}/{i}'."
                )
            assignments.append((variable, value))
    layers = group[LAYERS_KEY] if group is not None and LAYERS_KEY in group else None
    for key, child in _keyed_children(layer):
        child_group = layers[key] if layers is not None and key in layers else None
        if child_group is None and _own_variables(child) and not skip_mismatch:
            raise ValueError(
                f"No weights for layer '{child.name}' in the file (looked for "
                f"'{path}/{LAYERS_KEY}/{key}'). Layers in the file: "
                f"{sorted(layers) if layers is not None else []}. The model must have the "
                "architecture of the model that saved the file."
            )
        _load_layer(child_group, child, f"{path}/{LAYERS_KEY}/{key}", skip_mismatch,
                    assignments)


def load_weights(model, filepath, skip_mismatch=False):
    """Assigns the weights stored in `filepath` to `model`, matched by layer name.

    Every variable is checked before any is assigned, so a failed load changes nothing.
    """
    h5py = _h5py()
    filepath = _check_path(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such weights file: {filepath}")
    if not getattr(model, "built", True) or not model.weights:
        raise ValueError(
            f"Model '{model.name}' has no weights yet: build it (call it on data or pass "
            "`keras.Input`) before calling `load_weights`."
        )
    assignments = []
    with h5py.File(filepath, "r") as f:
        _load_layer(f, model, "", skip_mismatch, assignments)
    for variable, value in assignments:
        variable.assign(value.astype(variable.dtype if isinstance(variable.dtype, str)
                                     else str(variable.dtype)))
