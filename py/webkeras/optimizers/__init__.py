"""keras.optimizers: Keras 3 optimizers, `schedules`, and `get` (case-insensitive names)."""

import inspect

from webkeras.optimizers import schedules  # noqa: F401
from webkeras.optimizers.base import Optimizer  # noqa: F401
from webkeras.optimizers.optimizers import (  # noqa: F401
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Nadam,
    RMSprop,
)
from webkeras.utils import object_registry, serialization_lib

_CLASSES = (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in _CLASSES}


def get(identifier):
    """An Optimizer for a name ('adam', 'RMSprop': case-insensitive), config dict, class or
    instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[identifier.lower()]()
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected one of "
        f"{sorted(ALL_OBJECTS_DICT)} (case-insensitive), a config dict or an Optimizer."
    )


def serialize(optimizer):
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or ALL_OBJECTS_DICT.get(class_name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer '{class_name}'. Expected one of "
                         f"{sorted(ALL_OBJECTS_DICT)}, or pass it in `custom_objects`.")
    return cls.from_config(dict(config.get("config", {})), custom_objects)


def _deserialize_saved(config, custom_objects):
    """An optimizer or schedule a saved config names, custom objects in scope included."""
    return deserialize(config, object_registry.active_custom_objects(custom_objects))


serialization_lib.register_namespace(("keras.optimizers", "keras.optimizers.schedules"),
                                     deserialize=_deserialize_saved)
