"""`keras.saving.serialize_keras_object` / `deserialize_keras_object`: any Keras object (layer,
optimizer, loss, metric, function) as Keras 3's `{"module", "class_name", "config",
"registered_name"}` dict, and back.

Custom functions are written as Keras 3 writes them (`class_name: "function"`, the registered
name, e.g. `"my_pkg>my_act"`, under `config`) and found again through `custom_objects`, the
active `custom_object_scope` or `register_keras_serializable`.
"""

import types

from webkeras.saving import object_registry
from webkeras.utils.file_errors import UnknownObjectError

FUNCTION_CLASS = "function"
# The Keras namespaces whose built-in functions a `"module": "builtins"` function may name.
BUILTIN_FUNCTION_MODULES = ("activations", "losses", "metrics")


def _keras_module(cls):
    """`keras.<namespace>` for a webkeras class, else the class's own module."""
    parts = cls.__module__.split(".")
    if parts[0] == "webkeras" and len(parts) > 1:
        return f"keras.{parts[1]}"
    return cls.__module__


def _builtin_function(name, namespace):
    import importlib

    table = {
        "activations": lambda m: getattr(m, "_BY_NAME", {}),
        "losses": lambda m: m.ALL_OBJECTS_DICT,
        "metrics": lambda m: m.ALL_OBJECTS_DICT,
    }[namespace]
    found = table(importlib.import_module(f"webkeras.{namespace}")).get(name)
    return found if isinstance(found, types.FunctionType) else None


def builtin_function_name(fn):
    """`(namespace, name)` when `fn` is one of Keras's own activation / loss / metric
    functions, else None."""
    for namespace in BUILTIN_FUNCTION_MODULES:
        name = getattr(fn, "__name__", None)
        if name and _builtin_function(name, namespace) is fn:
            return namespace, name
    return None


def serialize_function(fn):
    """A function as Keras 3 writes it: a built-in by its public name, a custom one by its
    registered name (`package>name`) or its `__name__`."""
    builtin = builtin_function_name(fn)
    if builtin is not None:
        namespace, name = builtin
        return {"module": f"keras.{namespace}", "class_name": FUNCTION_CLASS, "config": name,
                "registered_name": name}
    return {"module": "builtins", "class_name": FUNCTION_CLASS,
            "config": object_registry.get_registered_name(fn),
            "registered_name": FUNCTION_CLASS}


def find_function(name, namespaces=BUILTIN_FUNCTION_MODULES, custom_objects=None):
    """The function a saved name stands for: a custom object first (`custom_objects`, the
    active scopes, the registry), then Keras's built-ins in `namespaces`; None if unknown."""
    if not isinstance(name, str):
        return None
    found = object_registry.get_registered_object(name, custom_objects)
    if found is not None:
        return found
    for namespace in namespaces:
        found = _builtin_function(name, namespace)
        if found is not None:
            return found
    # Keras <= 3.6 saved a registered function by its bare name: match "package>name".
    if ">" not in name:
        matches = [obj for key, obj in object_registry.active_custom_objects(custom_objects)
                   .items() if key.endswith(f">{name}")]
        if len(matches) == 1:
            return matches[0]
    return None


def serialize_keras_object(obj):
    """Retrieves the config dict of a Keras object (Keras 3's layout); plain values pass.

    Example:

    >>> config = keras.saving.serialize_keras_object(keras.layers.Dense(3))
    >>> layer = keras.saving.deserialize_keras_object(config)
    """
    from webkeras.layers.layer import Layer

    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        # NumPy scalars and arrays: plain JSON values.
        return obj.tolist()
    if isinstance(obj, Layer):
        from webkeras.models.model_config import serialize_layer

        return serialize_layer(obj)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it is not a Keras object (it has no "
                        "`get_config()`) nor a named function.")
    cls = type(obj)
    custom = cls.__module__.split(".")[0] != "webkeras"
    return {"module": _keras_module(cls), "class_name": cls.__name__,
            "config": serialize_keras_object(obj.get_config()),
            "registered_name": object_registry.get_registered_name(cls) if custom else None}


def _classes_of(module, base):
    """A module's public subclasses of `base`, by name: the table a saved
    `{"module": ..., "class_name": ...}` may name (never an arbitrary attribute)."""
    return {name: obj for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, base) and not name.startswith("_")}


def _builtin_class(module, class_name, custom_objects):
    from webkeras import constraints, initializers, losses, metrics, optimizers, regularizers

    if module in ("keras.optimizers", "keras.optimizers.schedules"):
        return optimizers.deserialize
    tables = {
        "keras.losses": losses.ALL_OBJECTS_DICT,
        "keras.metrics": metrics.ALL_OBJECTS_DICT,
        "keras.regularizers": _classes_of(regularizers, regularizers.Regularizer),
        "keras.initializers": _classes_of(initializers, initializers.Initializer),
        "keras.constraints": _classes_of(constraints, constraints.Constraint),
    }
    return tables.get(module, {}).get(class_name)


def deserialize_keras_object(config, custom_objects=None, safe_mode=None, **kwargs):
    """Rebuilds the object `serialize_keras_object` (webkeras's or Keras 3's) described.

    Custom classes and functions are looked up in `custom_objects`, the active
    `custom_object_scope` and the `register_keras_serializable` registry; names that match
    nothing stay strings (as in Keras, e.g. `"adam"` or `"mse"`). `safe_mode=None` keeps
    the mode of the load in progress (safe by default).
    """
    from webkeras.layers.core.lambda_layer import safe_mode_scope
    from webkeras.layers.layer import Layer

    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object() got unexpected arguments {sorted(kwargs)}")
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        found = object_registry.get_registered_object(config, custom_objects, module_objects)
        return found if found is not None else config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode)
                for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"]
    module = config.get("module")
    with object_registry.custom_object_scope(custom_objects), safe_mode_scope(safe_mode):
        if class_name == FUNCTION_CLASS:
            fn = find_function(inner, custom_objects=custom_objects)
            if fn is None:
                raise UnknownObjectError(
                    f"Could not locate function '{inner}'. Pass it in "
                    f"`custom_objects={{'{inner}': {inner}}}` or decorate it with "
                    f"`@keras.saving.register_keras_serializable()`. Full object config: "
                    f"{config}")
            return fn
        cls = (object_registry.get_registered_object(config.get("registered_name") or "",
                                                     custom_objects)
               or object_registry.get_registered_object(class_name, custom_objects,
                                                        module_objects))
        if cls is None and module in ("keras.layers", "keras", "keras.models",
                                      "keras.src.models.functional"):
            from webkeras.models.model_config import deserialize_layer

            return deserialize_layer(config, custom_objects)
        if isinstance(cls, type) and issubclass(cls, Layer):
            from webkeras.models.model_config import deserialize_layer

            return deserialize_layer(config, custom_objects)
        if cls is None:
            cls = _builtin_class(module, class_name, custom_objects)
            if cls is not None and not isinstance(cls, type):
                # optimizers.deserialize: takes the whole config.
                return cls(config, object_registry.active_custom_objects(custom_objects))
        if cls is None:
            raise UnknownObjectError(
                f"Could not locate class '{class_name}'. Make sure custom classes are "
                "decorated with `@keras.saving.register_keras_serializable()`, or pass "
                f"`custom_objects={{'{class_name}': {class_name}}}`. Full object config: "
                f"{config}")
        if isinstance(cls, types.FunctionType):
            return cls
        return cls.from_config(dict(inner or {}))
