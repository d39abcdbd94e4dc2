"""Configs written by other Keras 3 versions: keys webkeras layers do not take.

Newer Keras adds arguments such as `quantization_config=None`, `optional=False` or
`input_axes=None`. When such a key holds its inert default it is dropped; any other value
reaches the constructor, which names it in its error.
"""

import functools
import inspect

from webkeras.layers.layer import Layer
from webkeras.utils import serialization_lib

# Base Layer keyword arguments (see Layer.__init__).
LAYER_KWARGS = frozenset({"trainable", "name", "dtype", "input_shape", "batch_input_shape",
                          "input_dim", "batch_size", "autocast", "activity_regularizer"})
DTYPE_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy")


# Cached per class: a config of thousands of layers asks about the same few classes.
@functools.cache
def accepted_kwargs(cls):
    """Constructor argument names of `cls`, following `**kwargs` up the MRO; None = any."""
    names = _constructor_kwargs(cls)
    names = None if names is None else frozenset(names)
    # LSTM / GRU hand their `**kwargs` on to their cell (`reset_after`, `use_bias`...).
    cell_class = getattr(cls, "cell_class", None)
    if names is None or not isinstance(cell_class, type):
        return names
    cell_names = _constructor_kwargs(cell_class)
    return None if cell_names is None else frozenset(names | cell_names)


def _constructor_kwargs(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
        if klass is Layer:
            return names | LAYER_KWARGS
    return None


def _inert(value):
    return value is None or value is False or value == {} or value == []


def _never(config):
    return False


# Keys that are inert only given another key's value (BatchNormalization without renorm).
INERT_WHEN = {"renorm_momentum": lambda config: not config.get("renorm")}


# Keys tf.keras 2 wrote that the Keras 3 class no longer takes, with the values that change
# nothing (`implementation` only picks how LSTM / GRU group their matmuls).
LEGACY_KEYS = {
    **{name: {"groups": (1,)} for name in ("Conv1DTranspose", "Conv2DTranspose",
                                            "Conv3DTranspose")},
    **{name: {"implementation": (1, 2)} for name in ("LSTM", "GRU", "LSTMCell", "GRUCell")},
}


def drop_unknown_defaults(cls, config):
    """`config` without the keys `cls` does not take whose value is an inert default."""
    legacy = LEGACY_KEYS.get(cls.__name__, {})
    config = {k: v for k, v in config.items() if v not in legacy.get(k, ())}
    accepted = accepted_kwargs(cls)
    if accepted is None:
        return config
    return {k: v for k, v in config.items()
            if k in accepted or not (_inert(v) or INERT_WHEN.get(k, _never)(config))}


def dtype_name(dtype):
    """'float32' from a `DTypePolicy` config dict or a plain dtype string."""
    if isinstance(dtype, dict) and dtype.get("class_name") in DTYPE_POLICY_CLASSES:
        return dtype.get("config", {}).get("name", "float32")
    return dtype


def dtype_policy(name):
    """Keras 3's serialized `DTypePolicy` for a dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


@functools.cache
def nested_classes():
    """`{Keras module: {class name: class}}`: the tables each package's `get` resolves a
    `class_name` from, so a file's name is looked up there and never with getattr on a module
    (which would hand the file anything the module imports)."""
    return {module: serialization_lib.builtin_objects(module)
            for module in ("keras.initializers", "keras.regularizers", "keras.constraints")}


def clean_nested(value):
    """Drops inert unknown keys inside nested initializer / regularizer / constraint dicts."""
    if isinstance(value, list):
        return [clean_nested(v) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: clean_nested(v) for k, v in value.items()}
    if not isinstance(value.get("config"), dict) or not isinstance(value.get("class_name"), str):
        return value
    # tf.keras 2 / TF.js configs name no module: look the class up in each table.
    module, tables = value.get("module"), nested_classes()
    if isinstance(module, str) and module in tables:
        candidates = [tables[module]]
    else:
        candidates = list(tables.values()) if module is None else []
    for table in candidates:
        cls = table.get(value["class_name"])
        if cls is not None:
            value["config"] = drop_unknown_defaults(cls, value["config"])
            break
    return value
