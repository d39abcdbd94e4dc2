"""An architecture read from a file becomes a model here, and only here: `model_from_json`,
`model_from_yaml`, and the configs inside `.keras`, `.h5` and TF.js files."""

from webkeras.layers.serialization import deserialize_layer
from webkeras.saving import topology
from webkeras.utils import file_errors, file_limits, yaml_io
from webkeras.utils.file_errors import ModelFileError
from webkeras.utils.safe_mode import safe_mode_scope


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """Rebuilds a model (no weights) from `model.to_json()` (Keras 3 or tf.keras 2); Lambda
    layers holding Python bytecode load only with `safe_mode=False`."""
    source = "the model JSON"
    return model_from_file_config(file_limits.load_json(json_string, source), custom_objects,
                                  safe_mode, source)


def model_from_file_config(config, custom_objects=None, safe_mode=True, source="the config"):
    """The one way an architecture read from a file becomes a model.

    The config's depth and layer count are checked before anything is built, tf.keras 2 /
    TF.js forms are translated, safe mode is in force, and any failure is a ModelFileError
    (UnknownObjectError for unknown classes) whose message names `source`.
    """
    if not isinstance(config, dict):
        raise ModelFileError(f"{source}: expected the architecture as a JSON object, found "
                             f"{type(config).__name__}.")
    file_limits.check_config(config, source)
    with file_errors.reading(source):
        # tf.keras 2 and TF.js wrote containers in their own form (list-form inbound nodes,
        # `batch_input_shape`); Keras 3 configs pass through unchanged.
        if config.get("class_name") in topology.CONTAINER_CLASSES or "model_config" in config:
            config = topology.from_tfjs_model(config)
        with safe_mode_scope(safe_mode):
            return deserialize_layer(config, custom_objects)


def model_from_yaml(yaml_string, custom_objects=None, safe_mode=True):
    """Parses a YAML model configuration and returns a model instance (uncompiled, no weights).

    Reads `model.to_yaml()`, and tf.keras 2's `to_yaml()` files (`!!python/tuple` shapes).
    The reader accepts plain data only (PyYAML's SafeLoader, no anchors) and never runs
    anything.

    Args:
        yaml_string: YAML string, bytes, or open file encoding a model configuration.
        custom_objects: Optional dictionary mapping names (strings) to custom classes or
            functions to be considered during deserialization.
        safe_mode: Lambda layers holding Python bytecode load only with `safe_mode=False`.

    Returns:
        A Keras model instance (uncompiled).

    Example:

    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5)])
    >>> clone = keras.models.model_from_yaml(model.to_yaml())
    """
    source = "the model YAML"
    if not hasattr(yaml_string, "read"):
        file_limits.check("config_bytes", len(yaml_string), source)
    with file_errors.reading(source):
        config = yaml_io.load(yaml_string)
    return model_from_file_config(config, custom_objects, safe_mode, source)
