"""Configs written by other Keras 3 versions: keys webkeras layers do not take.

Newer Keras adds arguments such as `quantization_config=None`, `optional=False` or
`input_axes=None`. When such a key holds its inert default it is dropped; any other value
reaches the constructor, which names it in its error.
"""

import inspect

from webkeras.layers.layer import Layer

# Base Layer keyword arguments (see Layer.__init__).
LAYER_KWARGS = frozenset({"trainable", "name", "dtype", "input_shape", "batch_input_shape",
                          "input_dim", "batch_size", "autocast", "activity_regularizer"})
DTYPE_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy")


def accepted_kwargs(cls):
    """Constructor argument names of `cls`, following `**kwargs` up the MRO; None = any."""
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


def drop_unknown_defaults(cls, config):
    """`config` without the keys `cls` does not take whose value is an inert default."""
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


# Nested objects in layer configs, by Keras module, and where webkeras keeps them.
NESTED_MODULES = {"keras.initializers": "webkeras.initializers",
                  "keras.regularizers": "webkeras.regularizers",
                  "keras.constraints": "webkeras.constraints"}


def clean_nested(value):
    """Drops inert unknown keys inside nested initializer / regularizer / constraint dicts."""
    import importlib

    if isinstance(value, list):
        return [clean_nested(v) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: clean_nested(v) for k, v in value.items()}
    module = NESTED_MODULES.get(value.get("module"))
    if module and isinstance(value.get("config"), dict):
        cls = getattr(importlib.import_module(module), value.get("class_name", ""), None)
        if isinstance(cls, type):
            value["config"] = drop_unknown_defaults(cls, value["config"])
    return value
