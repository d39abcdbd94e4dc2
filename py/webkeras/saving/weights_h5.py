"""`.weights.h5` files in Keras 3's layout, so Keras and webkeras read each other's files.

Layout (Keras 3's `saving_lib._save_state`): every layer gets a `<path>/vars` group (named
by the layer's `name` attribute) holding datasets `0, 1, ...`: its own trainable variables,
then its non-trainable ones. A Sequential / Functional model's layers sit under `layers/`,
keyed by snake-cased class name numbered per class (`dense`, `dense_1`...), not by the
layers' own names, so weights load into a fresh copy of the architecture. Other sub-layers
sit under the attribute name that holds them (`layers/lstm/cell`), in sorted attribute
order; a shared object is written once, at its first path. The optimizer's variables
(iterations, learning rate, slots) are `optimizer/vars/<i>`.
"""

import os
import warnings

import numpy as np

from webkeras.layers.layer import Layer
from webkeras.layers.saving_hooks import SavingHooks
from webkeras.models.functional import Functional
from webkeras.models.sequential import Sequential
from webkeras.optimizers.base import Optimizer
from webkeras.saving import h5_global_heap
from webkeras.utils import file_errors, file_utils
from webkeras.utils.naming import to_snake_case

WEIGHTS_SUFFIX = ".weights.h5"
LEGACY_SUFFIXES = (".h5", ".hdf5", ".keras.h5")
LAYERS_KEY = "layers"
VARS_KEY = "vars"
NAME_ATTR = "name"
OPTIMIZER_KEY = "optimizer"
# Attributes of Keras containers that are never walked (Keras skips a bare Layer's dir()).
_SKIP_ATTRS = frozenset({"_tracked", "_layers", "layers", "_inbound_nodes", "_own_variables",
                         "_own_losses", "input_spec", "_build_shapes", "activity_regularizer"})


def _h5py():
    """h5py when installed, else webkeras's pure-Python subset (all Pyodide has: no h5py build
    ships with it), which reads and writes the layout Keras weight files use."""
    try:
        import h5py
    except ImportError:
        from webkeras.saving import pure_h5

        return pure_h5
    return h5py


def own_variables(layer):
    return layer._state_variables()


def _overrides(obj, hook):
    """Whether `obj`'s class replaces the default `hook` (a SavingHooks method name)."""
    return getattr(type(obj), hook, None) is not getattr(SavingHooks, hook)


class VariableStore:
    """A layer's `vars` group as the dict-like `store` its `save_own_variables` /
    `load_own_variables` get (Keras 3's H5Entry): arrays in, NumPy arrays out."""

    def __init__(self, group, where):
        self.group = group
        self.where = where

    def __setitem__(self, key, value):
        value = value.numpy() if hasattr(value, "numpy") else value
        self.group.create_dataset(str(key), data=np.asarray(value))

    def __getitem__(self, key):
        if key not in self.group:
            raise KeyError(f"No variable '{key}' in {self.where} (it holds "
                           f"{sorted(self.group.keys())}).")
        dataset = self.group[key]
        check_numeric(dataset, f"Variable '{key}'", self.where)
        return np.asarray(dataset[()])

    def __contains__(self, key):
        return key in self.group

    def __len__(self):
        return len(self.group)

    def __iter__(self):
        return iter(self.group.keys())

    def keys(self):
        return list(self.group.keys())


def _is_trackable(obj):
    return isinstance(obj, (Layer, Optimizer))


def _walk(obj):
    """(attribute, child) pairs in the order Keras 3's `_walk_trackable` yields them."""
    if not isinstance(obj, Layer):
        return
    if isinstance(obj, (Sequential, Functional)):
        yield LAYERS_KEY, list(obj.layers)
    for attr in sorted(vars(obj)):
        if attr.startswith("__") or attr in _SKIP_ATTRS:
            continue
        yield attr, vars(obj)[attr]


def _container_items(container):
    if isinstance(container, dict):
        container = list(container.values())
    used = {}
    for child in container:
        if not _is_trackable(child):
            continue
        key = to_snake_case(type(child).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        yield key, child


def iter_state(obj, path="", visited=None):
    """(path, object) for `obj` and every layer / optimizer under it, each once."""
    visited = set() if visited is None else visited
    if id(obj) in visited:
        return
    visited.add(id(obj))
    yield path, obj
    for attr, child in _walk(obj):
        child_path = f"{path}/{attr}".lstrip("/")
        if _is_trackable(child):
            yield from iter_state(child, child_path, visited)
        elif isinstance(child, (list, tuple, dict)):
            for key, item in _container_items(child):
                yield from iter_state(item, f"{child_path}/{key}", visited)


def state_variables(obj):
    """The variables Keras stores for `obj` itself, in Keras's order."""
    if isinstance(obj, Optimizer):
        return list(obj.variables)
    return own_variables(obj)


def _is_optimizer(obj):
    return isinstance(obj, Optimizer)


def _include(obj, include_optimizer):
    return include_optimizer or not _is_optimizer(obj)


def write_state(h5group, model, include_optimizer=True):
    """Writes `model`'s weights (and optimizer state) into an open h5py File or Group."""
    for path, obj in iter_state(model):
        if not _include(obj, include_optimizer):
            continue
        key = f"{path}/{VARS_KEY}".lstrip("/")
        group = h5group.require_group(key)
        group.attrs[NAME_ATTR] = obj.name
        if _is_optimizer(obj):
            for i, variable in enumerate(state_variables(obj)):
                group.create_dataset(str(i), data=np.asarray(variable.numpy()))
        else:
            obj.save_own_variables(VariableStore(group, f"'{key}'"))


def read_state(h5group, model, skip_mismatch=False, include_optimizer=True, source=""):
    """Reads weights written by `write_state` (or Keras 3) into `model`.

    Every shape is checked (from the file's metadata, before any data is read) and every
    value read before any variable is assigned, so a failed load changes nothing.
    """
    assignments = []
    custom_loads = []
    for path, obj in iter_state(model):
        if not _include(obj, include_optimizer):
            continue
        is_optimizer = _is_optimizer(obj)
        if is_optimizer:
            if path not in h5group:
                continue
            if not obj.built:
                obj.build(model.trainable_variables)
        variables = state_variables(obj)
        key = f"{path}/{VARS_KEY}".lstrip("/")
        saved = h5group[key] if key in h5group else None
        if saved is not None and not is_optimizer and _overrides(obj, "load_own_variables"):
            # A layer's own loader runs after the checked default assignments below.
            custom_loads.append((obj, VariableStore(saved, f"'{key}' ({source})")))
            continue
        if saved is None:
            if variables and not skip_mismatch:
                raise ValueError(
                    f"No weights for layer '{obj.name}' in {source or 'the file'} (looked for "
                    f"'{key}'). The model must have the architecture of the model that saved "
                    "the file, or pass `skip_mismatch=True`.")
            continue
        if len(saved) != len(variables):
            message = (f"{'Optimizer' if is_optimizer else 'Layer'} '{obj.name}' expected "
                       f"{len(variables)} variables, but received {len(saved)} variables "
                       f"during loading (at '{key}' in {source or 'the file'}).")
            if is_optimizer:
                warnings.warn(f"Skipping variable loading for optimizer: {message}",
                              stacklevel=3)
                continue
            if skip_mismatch:
                warnings.warn(message, stacklevel=3)
                continue
            raise ValueError(message + f" Expected: {[v.name for v in variables]}")
        for i, variable in enumerate(variables):
            dataset = saved[str(i)]
            if tuple(dataset.shape) != tuple(variable.shape):
                message = (f"Layer '{obj.name}' weight '{variable.name}' has shape "
                           f"{tuple(variable.shape)}, but the file holds shape "
                           f"{tuple(dataset.shape)} at '{key}/{i}' ({source}).")
                if skip_mismatch:
                    warnings.warn(message, stacklevel=3)
                    continue
                raise ValueError(message)
            check_numeric(dataset, f"Layer '{obj.name}' weight '{variable.name}'",
                          f"'{key}/{i}' ({source})")
            assignments.append((obj, variable, np.asarray(dataset[()])))
    assign_all(assignments)
    for layer, store in custom_loads:
        layer.load_own_variables(store)


def check_numeric(dataset, weight, where):
    """Refuses a dataset of strings, references, compound or opaque records for a weight."""
    if dataset.dtype.kind not in "biuf":
        raise file_errors.ModelFileError(
            f"{weight} is stored at {where} as {dataset.dtype} data, not numbers "
            "(a damaged or crafted file).")


def assign_all(assignments):
    """Assigns (owner, variable, value) triples; an optimizer's step and learning rate are
    set through its properties, which keep them on the host."""
    for owner, variable, value in assignments:
        if variable is getattr(owner, "_iterations", None):
            owner.iterations = int(value)
        elif variable is getattr(owner, "_learning_rate_variable", None):
            owner.learning_rate = float(value)
        else:
            variable.assign(value.astype(str(variable.dtype)))


def atomic_write(filepath, writer, overwrite=True):
    """Calls `writer(tmp_path)`, then renames the temporary file over `filepath`."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists; pass `overwrite=True` to replace it.")
    return file_utils.atomic_write(filepath, writer)


def weights_path(filepath):
    """The file `save_weights(filepath)` writes, warning when it is not `filepath`.

    A TensorFlow-checkpoint-style prefix (`./weights/my_model`) becomes
    `./weights/my_model.weights.h5`.
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(WEIGHTS_SUFFIX) or filepath.endswith(LEGACY_SUFFIXES):
        return filepath
    written = filepath + WEIGHTS_SUFFIX
    warnings.warn(
        f"`save_weights('{filepath}')`: TensorFlow checkpoints are not supported; the "
        f"weights were written in Keras 3's format to '{written}'. Load them with "
        f"`load_weights('{written}')`.", stacklevel=3)
    return written


def save_weights(model, filepath, overwrite=True):
    """Writes every weight of `model` (and its optimizer state) to `filepath`, atomically.

    `.weights.h5`: Keras 3's layout. `.h5`: the legacy layout keyed by layer name. Any
    other name is taken as a checkpoint prefix: `<prefix>.weights.h5` is written, with a
    warning. Returns the path written.
    """
    h5py = _h5py()
    filepath = weights_path(filepath)
    if not filepath.endswith(WEIGHTS_SUFFIX):
        from webkeras.saving import legacy_h5

        return legacy_h5.save_weights(model, filepath, overwrite=overwrite)

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            write_state(f, model, include_optimizer=_optimizer_built(model))

    return atomic_write(filepath, write, overwrite)


def _optimizer_built(model):
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and getattr(optimizer, "built", False)


def open_h5(source, h5py=None, name=None):
    """Opens a path or file-like object read-only, once `h5_safety`'s rule holds for it.

    Every HDF5 file a loader reads is opened here, so none reads another file through
    external storage, a link or a virtual dataset, and none loads an HDF5 plugin.

    Args:
        source: a path or a binary file object.
        h5py: h5py or `pure_h5` (default: `_h5py()`).
        name: the file for messages, e.g. "'m.keras' member 'model.weights.h5'".

    Raises:
        ModelFileError: the file is damaged (a ValueError), e.g. a global heap on which
            libhdf5 would loop forever (see `h5_global_heap`).
        UnsafeContentError: it reaches outside itself (see `h5_safety`).
        FileLimitError: it declares more objects or weight bytes than `file_limits` allow.
    """
    from webkeras.saving import h5_safety, pure_h5

    h5py = h5py or _h5py()
    if name is None:
        name = "the HDF5 data" if hasattr(source, "read") else f"'{os.fspath(source)}'"
    if h5py is pure_h5:
        # The pure reader applies the same rule while it parses, and names `name` in errors.
        return pure_h5.File(source, "r", name=name)
    try:
        f = h5py.File(source, "r")
    except OSError as error:
        raise h5_safety.damaged(error, name) from None
    try:
        # Before h5py reads any variable-length string: a damaged heap hangs libhdf5.
        h5_global_heap.check_global_heaps(source, name)
        h5_safety.check_h5_tree(f, name)
    except BaseException:
        f.close()
        raise
    return f


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """Assigns the weights stored in `filepath` to `model`.

    `.weights.h5` files are matched by Keras 3 path; legacy `.h5` files by layer order, or
    by layer name with `by_name=True`. Every variable is checked before any is assigned,
    so a failed load changes nothing.
    """
    h5py = _h5py()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        if os.path.exists(filepath + WEIGHTS_SUFFIX):
            filepath += WEIGHTS_SUFFIX
        else:
            raise FileNotFoundError(f"No such weights file: {filepath}")
    if not getattr(model, "built", True) or not model.weights:
        raise ValueError(
            f"Model '{model.name}' has no weights yet: build it (call it on data or pass "
            "`keras.Input`) before calling `load_weights`.")
    if not filepath.endswith(WEIGHTS_SUFFIX):
        if not filepath.endswith(LEGACY_SUFFIXES):
            raise ValueError(
                f"Cannot load weights from '{filepath}': expected a `{WEIGHTS_SUFFIX}` file "
                f"or a legacy `.h5` file (TensorFlow checkpoints are not supported).")
        from webkeras.saving import legacy_h5

        return legacy_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch,
                                      by_name=by_name)
    if by_name:
        raise ValueError("`by_name=True` applies to legacy `.h5` files only; "
                         f"'{filepath}' is a Keras 3 `{WEIGHTS_SUFFIX}` file.")
    with file_errors.reading(f"'{filepath}'"):
        with open_h5(filepath, h5py) as f:
            read_state(f, model, skip_mismatch=skip_mismatch, source=f"'{filepath}'")
