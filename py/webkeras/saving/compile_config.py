"""Where files keep a model's `compile_config` (trainers/compile_config.py makes it), and
tf.keras 2's legacy `.h5` form of it (`training_config`)."""

from webkeras import optimizers
from webkeras.trainers.compile_config import get_compile_config

COMPILE_CONFIG_KEY = "compile_config"
# Keras's legacy `.h5` spelling.
TRAINING_CONFIG_ATTR = "training_config"


def legacy_training_config(model):
    """Keras's legacy `.h5` `training_config` (optimizer under `optimizer_config`)."""
    config = get_compile_config(model)
    if config is None:
        return None
    optimizer = config.pop("optimizer")
    config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                  "config": optimizer["config"]}
    return config


def from_legacy_training_config(config, custom_objects=None):
    config = dict(config)
    optimizer = config.pop("optimizer_config", None)
    if optimizer is not None:
        optimizer = legacy_optimizer_config(
            optimizer, optimizers.ALL_OBJECTS_DICT, custom_objects)
        config["optimizer"] = {"module": "keras.optimizers", "registered_name": None,
                               **optimizer}
    return config


# tf.keras 2.11+ saved its built-in optimizers as "Custom>Adam", with keys Keras 3 dropped.
LEGACY_OPTIMIZER_PREFIX = "Custom>"
LEGACY_OPTIMIZER_KEYS = ("is_legacy_optimizer", "jit_compile")


def legacy_optimizer_config(optimizer, builtin_names, custom_objects=None):
    """A tf.keras 2 `optimizer_config` for a built-in optimizer in Keras 3 form.

    Keras 3 falls back to a default-constructed optimizer of that name; this keeps the
    saved hyperparameters. Custom classes (in `custom_objects`) are left as they are.
    """
    class_name = optimizer.get("class_name", "")
    bare = class_name[len(LEGACY_OPTIMIZER_PREFIX):]
    if (not class_name.startswith(LEGACY_OPTIMIZER_PREFIX) or class_name in (custom_objects or {})
            or bare.lower() not in builtin_names):
        return optimizer
    config = dict(optimizer.get("config", {}))
    if config.get("is_legacy_optimizer"):
        return optimizer
    for key in LEGACY_OPTIMIZER_KEYS:
        config.pop(key, None)
    return dict(optimizer, class_name=bare, config=config)
