"""`keras.saving.serialize_keras_object` / `deserialize_keras_object`: any Keras object (layer,
optimizer, loss, metric, function) as Keras 3's `{"module", "class_name", "config",
"registered_name"}` dict, and back.

Custom functions are written as Keras 3 writes them (`class_name: "function"`, the registered
name, e.g. `"my_pkg>my_act"`, under `config`) and found again through `custom_objects`, the
active `custom_object_scope` or `register_keras_serializable`.
"""

import types

from webkeras.utils import object_registry
from webkeras.utils.file_errors import UnknownObjectError
from webkeras.utils.safe_mode import safe_mode_scope

FUNCTION_CLASS = "function"
# The Keras namespaces whose built-in functions a `"module": "builtins"` function may name.
BUILTIN_FUNCTION_MODULES = ("activations", "losses", "metrics")

# What a saved `{"module": "keras.<namespace>", "class_name": ...}` may name, filled by each
# namespace's package when it is imported (those packages sit above this module): a table of
# its built-in objects by name, or a function that rebuilds the whole config (layers,
# optimizers). A name is only ever looked up in these tables, never with getattr on a module,
# which would hand the file anything those modules import.
_BUILTIN_OBJECTS = {}
_DESERIALIZERS = {}
# Objects whose saved form is more than `get_config()` (a layer's build config, a model's
# graph): (base class, serialize, deserialize), registered by their package.
_KINDS = []


def register_namespace(modules, objects=None, deserialize=None):
    """Makes `objects` (`{name: class or function}`) or `deserialize(config, custom_objects)`
    what a config whose `"module"` is one of `modules` resolves through."""
    for module in modules:
        if objects is not None:
            _BUILTIN_OBJECTS.setdefault(module, {}).update(objects)
        if deserialize is not None:
            _DESERIALIZERS[module] = deserialize


def builtin_objects(module):
    """`{name: object}`: what a config naming `module` may resolve to."""
    return dict(_BUILTIN_OBJECTS.get(module, {}))


def register_kind(base, serialize, deserialize):
    """Instances of `base` (and configs naming a subclass of it) go through these two."""
    _KINDS.append((base, serialize, deserialize))


def _keras_module(cls):
    """`keras.<namespace>` for a webkeras class, else the class's own module."""
    parts = cls.__module__.split(".")
    if parts[0] == "webkeras" and len(parts) > 1:
        return f"keras.{parts[1]}"
    return cls.__module__


def _builtin_function(name, namespace):
    found = _BUILTIN_OBJECTS.get(f"keras.{namespace}", {}).get(name)
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
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        # NumPy scalars and arrays: plain JSON values.
        return obj.tolist()
    for base, serialize, _ in _KINDS:
        if isinstance(obj, base):
            return serialize(obj)
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


def deserialize_keras_object(config, custom_objects=None, safe_mode=None, **kwargs):
    """Rebuilds the object `serialize_keras_object` (webkeras's or Keras 3's) described.

    Custom classes and functions are looked up in `custom_objects`, the active
    `custom_object_scope` and the `register_keras_serializable` registry; names that match
    nothing stay strings (as in Keras, e.g. `"adam"` or `"mse"`). `safe_mode=None` keeps
    the mode of the load in progress (safe by default).
    """
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
        if cls is None and module in _DESERIALIZERS:
            return _DESERIALIZERS[module](config, custom_objects)
        for base, _, deserialize in _KINDS:
            if isinstance(cls, type) and issubclass(cls, base):
                return deserialize(config, custom_objects)
        if cls is None:
            cls = _BUILTIN_OBJECTS.get(module, {}).get(class_name)
        if cls is None:
            raise UnknownObjectError(
                f"Could not locate class '{class_name}'. Make sure custom classes are "
                "decorated with `@keras.saving.register_keras_serializable()`, or pass "
                f"`custom_objects={{'{class_name}': {class_name}}}`. Full object config: "
                f"{config}")
        if isinstance(cls, types.FunctionType):
            return cls
        return cls.from_config(dict(inner or {}))
