"""Layers as Keras 3 writes them in a config (`{"module", "class_name", "config",
"registered_name", "build_config"}`) and back: `keras.layers.serialize` / `deserialize`, and
every nested layer (an RNN's cell, a wrapper's layer, a model's layers) on the way."""

import inspect

from webkeras.layers import config_compat
from webkeras.layers.core.lambda_layer import Lambda
from webkeras.layers.layer import Layer
from webkeras.utils import object_registry, serialization_lib
from webkeras.utils.file_errors import UnknownObjectError

# The modules a layer's config may name; a model's config names "keras" (Sequential) or
# Keras's own module of Functional.
LAYER_MODULES = ("keras.layers", "keras", "keras.models", "keras.src.models.functional")


def jsonable(value):
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def _serialize_nested(value):
    """Keras objects inside a layer's config (a sublayer, a regularizer a custom layer keeps
    as given) become their serialized dicts, as Keras 3's `serialize_dict` does; other
    values are left as they are."""
    if isinstance(value, dict):
        return {k: _serialize_nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_serialize_nested(v) for v in value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        return serialization_lib.serialize_keras_object(value)
    return value


def serialize_layer(layer):
    layer_config = _serialize_nested(dict(layer.get_config()))
    if type(layer).__name__ != "InputLayer" and isinstance(layer_config.get("dtype"), str):
        layer_config["dtype"] = config_compat.dtype_policy(layer_config["dtype"])
    config = {"module": layer._config_module, "class_name": type(layer).__name__,
              "config": layer_config, "registered_name": None}
    if type(layer).__module__.split(".")[0] != "webkeras":
        config["module"] = type(layer).__module__
        config["registered_name"] = object_registry.get_registered_name(type(layer))
    build_config = layer.get_build_config() if type(layer).__name__ != "InputLayer" else None
    if build_config is not None:
        config["build_config"] = jsonable(serialization_lib.serialize_keras_object(build_config))
    return config


# A file's class name is looked up in this table, never with getattr on a module, which would
# hand the file anything those modules import. Filled by `keras.layers` and `keras.models`.
_BUILTIN_LAYERS = {}


def register_builtin_layers(namespace):
    """Adds the public Layer subclasses of `namespace` (`{name: object}`) to the table."""
    for name, value in namespace.items():
        if not name.startswith("_") and isinstance(value, type) and issubclass(value, Layer):
            _BUILTIN_LAYERS.setdefault(name, value)


def builtin_layer_classes():
    """`{class name: class}` for the layers webkeras builds from a config: the Layer
    subclasses `keras.layers` and `keras.models` export."""
    return dict(_BUILTIN_LAYERS)


def _find_class(class_name, custom_objects):
    if not isinstance(class_name, str) or not class_name:
        return None
    custom = object_registry.get_registered_object(class_name, custom_objects)
    if custom is not None:
        return custom
    return _BUILTIN_LAYERS.get(class_name)


def deserialize_layer(config, custom_objects=None):
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"A layer config must be a dict with a 'class_name' string. "
                         f"Received: {str(config)[:200]}")
    class_name = config["class_name"]
    cls = _find_class(config.get("registered_name"), custom_objects) or \
        _find_class(class_name, custom_objects)
    if cls is None:
        raise UnknownObjectError(
            f"Could not locate class '{class_name}'. Make sure custom classes are decorated "
            "with `@keras.saving.register_keras_serializable()`, or pass "
            f"`custom_objects={{'{class_name}': {class_name}}}`. "
            f"Full object config: {config}")
    inner = config_compat.clean_nested(dict(config.get("config", {})))
    if "dtype" in inner:
        inner["dtype"] = config_compat.dtype_name(inner["dtype"])
    inner = config_compat.drop_unknown_defaults(cls, inner)
    nested = class_name in ("Functional", "Sequential")
    # As Keras 3: custom objects stay visible to whatever this layer deserialises in turn
    # (an RNN's cell, a wrapper's layer, a custom layer's own `from_config`).
    with object_registry.custom_object_scope(custom_objects):
        if issubclass(cls, Lambda) or nested or _takes_custom_objects(cls):
            layer = cls.from_config(inner, custom_objects=custom_objects)
        else:
            layer = cls.from_config(inner)
        build = config.get("build_config")
        if build and not layer.built:
            layer.build_from_config(build)
            layer.built = True
    return layer


def _takes_custom_objects(cls):
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


serialization_lib.register_kind(Layer, serialize_layer, deserialize_layer)
serialization_lib.register_namespace(LAYER_MODULES, deserialize=deserialize_layer)
