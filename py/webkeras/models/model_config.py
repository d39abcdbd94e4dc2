"""A model's config in Keras 3's layout: the functional graph (`get_config` / `from_config` of
Functional), `to_json()` and tf.keras 2's `to_yaml()`. Weights are not part of a config; reading
one from a file is saving's (saving/architecture.py)."""

import collections
import json

from webkeras.layers.keras_tensor import KerasTensor
from webkeras.layers.serialization import deserialize_layer, jsonable, serialize_layer
from webkeras.utils import tree, yaml_io

KERAS_TENSOR_CLASS = "__keras_tensor__"


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


# -- YAML (tf.keras 2's `to_yaml` / `model_from_yaml`) -------------------------------------------
YAML_DUMP_OPTIONS = ("sort_keys", "allow_unicode")


def model_to_yaml(model, **kwargs):
    unknown = sorted(set(kwargs) - set(YAML_DUMP_OPTIONS))
    if unknown:
        raise TypeError(f"to_yaml() got unexpected keyword arguments {unknown}. It takes "
                        f"{list(YAML_DUMP_OPTIONS)}, as `yaml.dump` does; the YAML is always "
                        "block style with 2-space indents.")
    return yaml_io.dump(jsonable(serialize_layer(model)), **kwargs)
