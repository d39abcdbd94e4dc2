"""Model configs in Keras 3's JSON layout: `to_json()`, `model_from_json`, and the layer
(de)serialisation they share. Weights are not part of a config."""

import json

from webkeras.layers.keras_tensor import KerasTensor
from webkeras.utils import tree

KERAS_TENSOR_CLASS = "__keras_tensor__"
FUNCTIONAL_MODULE = "keras.src.models.functional"


def _jsonable(value):
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
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
    layer_config = dict(layer.get_config())
    if type(layer).__name__ != "InputLayer" and isinstance(layer_config.get("dtype"), str):
        layer_config["dtype"] = config_compat.dtype_policy(layer_config["dtype"])
    config = {"module": module, "class_name": type(layer).__name__,
              "config": layer_config, "registered_name": None}
    if type(layer).__module__.split(".")[0] != "webkeras":
        config["module"] = type(layer).__module__
        config["registered_name"] = object_registry.get_registered_name(type(layer))
    shapes = getattr(layer, "_build_shapes", None)
    if layer.built and shapes is not None and type(layer).__name__ != "InputLayer":
        config["build_config"] = {"input_shape": _jsonable(shapes)}
    return config


def _find_class(class_name, custom_objects):
    from webkeras.saving import object_registry

    if not class_name:
        return None
    custom = object_registry.get_registered_object(class_name, custom_objects)
    if custom is not None:
        return custom
    from webkeras import layers, models

    if class_name == "Functional":
        from webkeras.models.functional import Functional

        return Functional
    for namespace in (layers, models):
        cls = getattr(namespace, class_name, None)
        if isinstance(cls, type):
            return cls
    return None


def deserialize_layer(config, custom_objects=None):
    from webkeras.layers.core.lambda_layer import Lambda

    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"A layer config must be a dict with a 'class_name' string. "
                         f"Received: {str(config)[:200]}")
    class_name = config["class_name"]
    cls = _find_class(config.get("registered_name"), custom_objects) or \
        _find_class(class_name, custom_objects)
    if cls is None:
        raise TypeError(
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
    if issubclass(cls, Lambda) or nested or _takes_custom_objects(cls):
        layer = cls.from_config(inner, custom_objects=custom_objects)
    else:
        layer = cls.from_config(inner)
    build = config.get("build_config")
    if build and not layer.built and build.get("input_shape") is not None:
        shape = build["input_shape"]
        layer._maybe_build(_tuples(shape))
    return layer


def _takes_custom_objects(cls):
    import inspect

    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False


def _tuples(shape):
    if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    if isinstance(shape, dict):
        return {k: _tuples(v) for k, v in shape.items()}
    return [_tuples(s) for s in shape]


# -- functional graphs ---------------------------------------------------------------------------
def _tensor_config(t):
    history = t._keras_history
    return {"class_name": KERAS_TENSOR_CLASS,
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [history.operation.name, history.node_index,
                                         history.tensor_index]}}


def _arg_config(value):
    if isinstance(value, KerasTensor):
        return _tensor_config(value)
    if isinstance(value, (list, tuple)):
        return [_arg_config(v) for v in value]
    if isinstance(value, dict):
        return {k: _arg_config(v) for k, v in value.items()}
    return value


def _ref(t):
    h = t._keras_history
    return [h.operation.name, h.node_index, h.tensor_index]


def _struct_refs(struct):
    if isinstance(struct, dict):
        return {k: _ref(v) for k, v in struct.items()}
    if isinstance(struct, list):
        return [_ref(v) for v in struct]
    return [_ref(struct)]


def functional_config(model):
    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": _arg_config(list(node.arguments[0])),
             "kwargs": _arg_config(node.arguments[1])}
            for node in layer._inbound_nodes
            if id(node) in model._nodes and not node.is_input
        ]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _struct_refs(model._inputs_struct),
            "output_layers": _struct_refs(model._outputs_struct)}


def functional_from_config(cls, config, custom_objects=None):
    created = {}
    pending = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects)
        created[entry["name"]] = layer
        pending.extend((layer, node) for node in entry.get("inbound_nodes", []))
    produced = {}  # (layer name, node index, tensor index) -> KerasTensor
    for name, layer in created.items():
        if type(layer).__name__ == "InputLayer":
            produced[(name, 0, 0)] = layer.output
    node_counts = {name: 0 for name in created}

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR_CLASS:
            key = tuple(value["config"]["keras_history"])
            return produced.get(key, _MISSING)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    while pending:
        progressed = False
        remaining = []
        for layer, node in pending:
            args, kwargs = resolve(node["args"]), resolve(node["kwargs"])
            if any(v is _MISSING for v in tree.flatten((args, kwargs))):
                remaining.append((layer, node))
                continue
            outputs = layer(*args, **kwargs)
            index = node_counts[layer.name]
            node_counts[layer.name] += 1
            for i, out in enumerate(tree.flatten(outputs)):
                produced[(layer.name, index, i)] = out
            progressed = True
        if not progressed:
            raise ValueError("The functional config is not a valid graph: the inbound nodes of "
                             f"{[layer.name for layer, _ in remaining]} cannot be resolved.")
        pending = remaining

    def lookup(refs):
        if isinstance(refs, dict):
            return {k: produced[tuple(v)] for k, v in refs.items()}
        if refs and isinstance(refs[0], list):
            return [produced[tuple(r)] for r in refs]
        return produced[tuple(refs)]

    inputs, outputs = lookup(config["input_layers"]), lookup(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


class _Missing:
    pass


_MISSING = _Missing()


# -- JSON ----------------------------------------------------------------------------------------
def model_to_json(model, **kwargs):
    return json.dumps(_jsonable(serialize_layer(model)), **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """Rebuilds a model (no weights) from `model.to_json()`; Lambda layers holding Python
    bytecode load only with `safe_mode=False`."""
    from webkeras.layers.core.lambda_layer import safe_mode_scope

    config = json.loads(json_string)
    with safe_mode_scope(safe_mode):
        return deserialize_layer(config, custom_objects)
