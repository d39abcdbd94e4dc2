"""Model configs in Keras 3's JSON layout: `to_json()`, `model_from_json`, their YAML twins
`to_yaml()` / `model_from_yaml` (tf.keras 2), and the layer (de)serialisation they share.
Weights are not part of a config."""

import collections
import functools
import json

from webkeras.layers.keras_tensor import KerasTensor
from webkeras.utils import file_errors, file_limits, tree
from webkeras.utils.file_errors import ModelFileError, UnknownObjectError

KERAS_TENSOR_CLASS = "__keras_tensor__"
FUNCTIONAL_MODULE = "keras.src.models.functional"


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
    from webkeras.saving.serialization_lib import serialize_keras_object

    if isinstance(value, dict):
        return {k: _serialize_nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_serialize_nested(v) for v in value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        return serialize_keras_object(value)
    return value


def serialize_layer(layer):
    from webkeras.models.functional import Functional
    from webkeras.models.sequential import Sequential
    from webkeras.saving import config_compat, object_registry

    if isinstance(layer, Functional):
        module = FUNCTIONAL_MODULE
    elif isinstance(layer, Sequential):
        module = "keras"
    else:
        module = "keras.layers"
    layer_config = _serialize_nested(dict(layer.get_config()))
    if type(layer).__name__ != "InputLayer" and isinstance(layer_config.get("dtype"), str):
        layer_config["dtype"] = config_compat.dtype_policy(layer_config["dtype"])
    config = {"module": module, "class_name": type(layer).__name__,
              "config": layer_config, "registered_name": None}
    if type(layer).__module__.split(".")[0] != "webkeras":
        config["module"] = type(layer).__module__
        config["registered_name"] = object_registry.get_registered_name(type(layer))
    build_config = layer.get_build_config() if type(layer).__name__ != "InputLayer" else None
    if build_config is not None:
        from webkeras.saving.serialization_lib import serialize_keras_object

        config["build_config"] = jsonable(serialize_keras_object(build_config))
    return config


# Built once: a file's class name is looked up in this table, never with getattr on a module,
# which would hand the file anything those modules import.
@functools.cache
def builtin_layer_classes():
    """`{class name: class}` for the layers webkeras builds from a config: the Layer
    subclasses `keras.layers` and `keras.models` export, and `Functional`."""
    from webkeras import layers, models
    from webkeras.layers.layer import Layer
    from webkeras.models.functional import Functional

    table = {"Functional": Functional}
    for namespace in (layers, models):
        for name in dir(namespace):
            value = getattr(namespace, name)
            if not name.startswith("_") and isinstance(value, type) and issubclass(value, Layer):
                table.setdefault(name, value)
    return table


def _find_class(class_name, custom_objects):
    from webkeras.saving import object_registry

    if not isinstance(class_name, str) or not class_name:
        return None
    custom = object_registry.get_registered_object(class_name, custom_objects)
    if custom is not None:
        return custom
    return builtin_layer_classes().get(class_name)


def deserialize_layer(config, custom_objects=None):
    from webkeras.layers.core.lambda_layer import Lambda
    from webkeras.saving import object_registry

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
    from webkeras.saving import config_compat

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
    import inspect

    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


# -- functional graphs ---------------------------------------------------------------------------
# Keras 3 numbers a layer's calls per model: a node index counts only the calls that belong to
# the model being saved, so calls made for other models that share the layer are skipped.
def _own_node_index(history, own_nodes):
    operation, node_index, _ = history
    return sum(1 for node in operation._inbound_nodes[:node_index] if id(node) in own_nodes)


def _tensor_config(t, own_nodes):
    history = t._keras_history
    return {"class_name": KERAS_TENSOR_CLASS,
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [history.operation.name,
                                         _own_node_index(history, own_nodes),
                                         history.tensor_index]}}


def _arg_config(value, own_nodes):
    if isinstance(value, KerasTensor):
        return _tensor_config(value, own_nodes)
    if isinstance(value, (list, tuple)):
        return [_arg_config(v, own_nodes) for v in value]
    if isinstance(value, dict):
        return {k: _arg_config(v, own_nodes) for k, v in value.items()}
    return value


def _is_functional(operation):
    from webkeras.models.functional import Functional

    return isinstance(operation, Functional)


def _io_ref(t, own_nodes):
    """`[layer, node, tensor]` of a model input / output. Keras 3 still counts a nested
    Functional's own graph as its node 0 here (only here: not in `inbound_nodes`)."""
    history = t._keras_history
    node_index = _own_node_index(history, own_nodes)
    if _is_functional(history.operation):
        node_index += 1
    return [history.operation.name, node_index, history.tensor_index]


def functional_config(model):
    own_nodes = model._nodes
    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": _arg_config(list(node.arguments[0]), own_nodes),
             "kwargs": _arg_config(node.arguments[1], own_nodes)}
            for node in layer._inbound_nodes
            if id(node) in own_nodes and not node.is_input
        ]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": tree.map_structure(lambda t: _io_ref(t, own_nodes),
                                               model._inputs_struct),
            "output_layers": tree.map_structure(lambda t: _io_ref(t, own_nodes),
                                                model._outputs_struct)}


def functional_from_config(cls, config, custom_objects=None):
    created = {}
    unprocessed = {}  # layer name -> its inbound nodes not replayed yet, in config order
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        created[entry["name"]] = layer
        unprocessed[entry["name"]] = list(entry.get("inbound_nodes", []))
    produced = {}  # (layer name, node index, tensor index) -> KerasTensor
    for name, layer in created.items():
        if type(layer).__name__ == "InputLayer":
            produced[(name, 0, 0)] = layer.output
    node_counts = {name: 0 for name in created}

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR_CLASS:
            key = tuple(value["config"]["keras_history"])
            return produced.get(key, _Missing(key))
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    # Each layer replays its calls in config order, so that the node indices other layers
    # refer to are the ones the config was written with. A layer whose next call needs a
    # tensor not produced yet waits on the layer that will produce it, and is retried only
    # when that layer has made a call: linear in the number of calls, in any config order.
    ready = collections.deque(created)
    waiting = collections.defaultdict(list)
    while ready:
        name = ready.popleft()
        nodes = unprocessed[name]
        while nodes:
            args, kwargs = resolve(nodes[0]["args"]), resolve(nodes[0]["kwargs"])
            missing = [v for v in tree.flatten((args, kwargs)) if isinstance(v, _Missing)]
            if missing:
                waiting[missing[0].key[0]].append(name)
                break
            outputs = created[name](*args, **kwargs)
            for i, out in enumerate(tree.flatten(outputs)):
                produced[(name, node_counts[name], i)] = out
            node_counts[name] += 1
            nodes.pop(0)
            ready.extend(waiting.pop(name, ()))
    if any(unprocessed.values()):
        unresolved = {name: _missing_refs(resolve(nodes[0]))
                      for name, nodes in unprocessed.items() if nodes}
        raise ValueError(
            "The functional config is not a valid graph: the inbound nodes of "
            f"{list(unresolved)} cannot be resolved. They refer to "
            "[layer, node index, tensor index] entries that no layer call produces: "
            f"{unresolved}. Node indices count each layer's calls within this model, "
            "from 0.")

    def get_tensor(ref):
        name, node_index, tensor_index = ref
        nested = name in created and _is_functional(created[name])
        if nested:
            node_index -= 1  # see `_io_ref`
        key = (name, node_index, tensor_index)
        if key not in produced:
            raise ValueError(
                f"The functional config's input_layers / output_layers refer to {list(ref)}, "
                f"but layer '{name}' has {node_counts.get(name, 0)} call(s) in this model"
                f"{'' if name in created else ' (no layer has that name)'}"
                f"{' (there, a nested Functional is called from node 1 on)' if nested else ''}.")
        return produced[key]

    def lookup(refs):
        if isinstance(refs, dict):
            return {k: lookup(v) for k, v in refs.items()}
        if not isinstance(refs, list):
            # A bad config: ValueError, as Keras raises for one.
            raise ValueError(  # noqa: TRY004
                "The functional config's input_layers / output_layers must hold "
                f"[layer name, node index, tensor index] lists; found {refs!r}.")
        if len(refs) == 3 and isinstance(refs[0], str):
            return get_tensor(refs)
        return [lookup(r) for r in refs]

    inputs, outputs = lookup(config["input_layers"]), lookup(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _missing_refs(value):
    return [list(v.key) for v in tree.flatten(value) if isinstance(v, _Missing)]


class _Missing:
    """A reference to a layer call not replayed (yet)."""

    def __init__(self, key):
        self.key = key


# -- JSON ----------------------------------------------------------------------------------------
def model_to_json(model, **kwargs):
    return json.dumps(jsonable(serialize_layer(model)), **kwargs)


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
    from webkeras.layers.core.lambda_layer import safe_mode_scope
    from webkeras.saving.tfjs import topology

    if not isinstance(config, dict):
        raise ModelFileError(f"{source}: expected the architecture as a JSON object, found "
                             f"{type(config).__name__}.")
    file_limits.check_config(config, source)
    try:
        # tf.keras 2 and TF.js wrote containers in their own form (list-form inbound nodes,
        # `batch_input_shape`); Keras 3 configs pass through unchanged.
        if config.get("class_name") in topology.CONTAINER_CLASSES or "model_config" in config:
            config = topology.from_tfjs_model(config)
        with safe_mode_scope(safe_mode):
            return deserialize_layer(config, custom_objects)
    except file_errors.RAW_ERRORS as error:
        raise file_errors.as_model_file_error(error, source) from None


# -- YAML (tf.keras 2's `to_yaml` / `model_from_yaml`) -------------------------------------------
# yaml_io (PyYAML) is imported on first use: it is a fifth of `import webkeras` in the tab,
# whose every page load pays the import.
YAML_DUMP_OPTIONS = ("sort_keys", "allow_unicode")


def model_to_yaml(model, **kwargs):
    unknown = sorted(set(kwargs) - set(YAML_DUMP_OPTIONS))
    if unknown:
        raise TypeError(f"to_yaml() got unexpected keyword arguments {unknown}. It takes "
                        f"{list(YAML_DUMP_OPTIONS)}, as `yaml.dump` does; the YAML is always "
                        "block style with 2-space indents.")
    from webkeras.utils import yaml_io

    return yaml_io.dump(jsonable(serialize_layer(model)), **kwargs)


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
    from webkeras.utils import yaml_io

    source = "the model YAML"
    if not hasattr(yaml_string, "read"):
        file_limits.check("config_bytes", len(yaml_string), source)
    try:
        config = yaml_io.load(yaml_string)
    except file_errors.RAW_ERRORS as error:
        raise file_errors.as_model_file_error(error, source) from None
    return model_from_file_config(config, custom_objects, safe_mode, source)
