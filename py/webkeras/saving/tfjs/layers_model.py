"""Saving a webkeras model as a TF.js layers model directory, and loading one back.

Weights are named `<layer>/<weight>` (`dense/kernel`, `lstm/lstm_cell/kernel`; a nested
model's by its own layers' names), the names TF.js's `LayersModel.loadWeights` maps onto its
layers; on load, names from either converter are matched to layers by layer name, then by
weight name or position.
"""

import collections
import json
import os
import sys
import warnings

from webkeras.layers.serialization import jsonable, serialize_layer
from webkeras.saving import topology
from webkeras.saving.architecture import model_from_file_config
from webkeras.saving.keras_zip import KERAS_VERSION
from webkeras.saving.tfjs import format as fmt
from webkeras.saving.tfjs import weights
from webkeras.saving.weight_names import ordered_variables, weight_names
from webkeras.saving.weights_h5 import read_state
from webkeras.utils import file_errors, file_limits

GENERATOR = "webkeras"


def _version():
    # The root package is loaded before any of its submodules; importing it here would make
    # saving depend on everything the root assembles (keras.applications sits above saving).
    return getattr(sys.modules["webkeras"], "__version__", "0")


def _top_layers(model):
    return [layer for layer in getattr(model, "layers", []) if layer is not model]


def _leaf_layers(model):
    """Top-level layers, with a nested model replaced by its own layers: TF.js names a
    nested model's weights by its layers' names (`dense/kernel`), not the model's."""
    for layer in _top_layers(model):
        if _top_layers(layer):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _tfjs_named(layer):
    """(names, variables) of a top-level layer as TF.js names them: a nested model's by its
    own layers' names."""
    leaves = list(_leaf_layers(layer)) if _top_layers(layer) else [layer]
    return ([name for leaf in leaves for name in weight_names(leaf)],
            [variable for leaf in leaves for variable in ordered_variables(leaf)])


def named_weights(model):
    """[(manifest name, numpy array)] for every layer's variables.

    A nested model's weights keep the model's name as prefix (`inner/dense/kernel`, which
    webkeras reads back) only where TF.js's names would repeat another layer's, as TF.js
    refuses ("Duplicate weight name"); a warning says so.
    """
    groups = [(layer, *_tfjs_named(layer)) for layer in _top_layers(model)]
    counts = collections.Counter(name for _, names, _ in groups for name in names)
    pairs = []
    for layer, names, variables in groups:
        repeated = [name for name in names if counts[name] > 1]
        if repeated and _top_layers(layer):
            warnings.warn(
                f"Nested model '{layer.name}': TF.js names its weights by their layers' names, "
                f"and {repeated[:4]} name other weights too, which TF.js's "
                "`tf.loadLayersModel` refuses ('Duplicate weight name'). They are written as "
                f"'{layer.name}/...', which webkeras's `load_tfjs` reads; give the layers "
                "unique names to load the model in TF.js.", UserWarning, stacklevel=3)
            names, variables = weight_names(layer), ordered_variables(layer)
        pairs.extend(zip(names, (v.numpy() for v in variables)))
    return pairs


def model_topology(model):
    """The `modelTopology` object (tf.keras 2 form) for `model`."""
    return {fmt.KERAS_VERSION_KEY: KERAS_VERSION, fmt.BACKEND_KEY: fmt.TFJS_BACKEND,
            fmt.MODEL_CONFIG_KEY: topology.to_tfjs_model(jsonable(serialize_layer(model)))}


def save_tfjs(model, directory, quantize=None, shard_size=fmt.DEFAULT_SHARD_SIZE,
              weights_only=False):
    """Writes `model` to `directory` as a TF.js layers model (`model.json` + shards).

    Args:
        quantize: None, "uint8", "uint16" or "float16" (float weights only).
        shard_size: bytes per shard file (TF.js's default is 4 MiB).
        weights_only: write `weightsManifest` and shards without `modelTopology`.

    Returns:
        The path of the written `model.json`.

    Example:
    ```python
    from webkeras.saving import tfjs
    tfjs.save_tfjs(model, "web_model", quantize="uint8")
    # JS: await tf.loadLayersModel("web_model/model.json")
    ```
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    specs, data = weights.encode(named_weights(model), quantize)
    group = weights.write_group(directory, specs, data, shard_size)
    artifact = {fmt.FORMAT_KEY: fmt.LAYERS_MODEL_FORMAT,
                fmt.GENERATED_BY_KEY: f"{GENERATOR} {_version()}",
                fmt.CONVERTED_BY_KEY: f"{GENERATOR} {_version()} converter"}
    tfjs_topology = model_topology(model)
    for name, why in topology.tfjs_differences(tfjs_topology[fmt.MODEL_CONFIG_KEY]):
        warnings.warn(f"Layer '{name}' has {why}.", UserWarning, stacklevel=2)
    if not weights_only:
        artifact[fmt.TOPOLOGY_KEY] = tfjs_topology
    artifact[fmt.MANIFEST_KEY] = [group]
    path = os.path.join(directory, fmt.MODEL_JSON)
    with open(path, "w") as f:
        json.dump(artifact, f)
    return path


def _model_json_path(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, fmt.MODEL_JSON)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No TF.js model at '{path}': expected a `{fmt.MODEL_JSON}` "
                                "file or the directory holding it.")
    return path


def read_model_json(path):
    """(parsed model.json, its path) with the top-level fields checked."""
    path = _model_json_path(path)
    file_limits.check("config_bytes", os.path.getsize(path), f"'{path}'")
    with open(path, "rb") as f:
        artifact = file_limits.load_json(f.read(), f"'{path}'")
    if not isinstance(artifact, dict):
        raise file_errors.ModelFileError(  # noqa: TRY004  (malformed content)
            f"'{path}': expected a JSON object, found {type(artifact).__name__}.")
    kind = artifact.get(fmt.FORMAT_KEY, fmt.LAYERS_MODEL_FORMAT)
    if kind != fmt.LAYERS_MODEL_FORMAT:
        raise file_errors.ModelFileError(
            f"'{path}': field `{fmt.FORMAT_KEY}` is {kind!r}; webkeras reads "
            f"'{fmt.LAYERS_MODEL_FORMAT}' (a graph model has no Keras layers).")
    if fmt.MANIFEST_KEY not in artifact:
        raise file_errors.ModelFileError(
            f"'{path}': missing field `{fmt.MANIFEST_KEY}` (the weight list).")
    topology_value = artifact.get(fmt.TOPOLOGY_KEY)
    if topology_value is not None and not isinstance(topology_value, dict):
        raise file_errors.ModelFileError(
            f"'{path}': field `{fmt.TOPOLOGY_KEY}` must be an object.")
    return artifact, path


class _SavedNames:
    """The manifest's weight names, indexed by layer name once (a model of thousands of
    layers must not scan every name for every layer)."""

    def __init__(self, names):
        self.names = list(names)
        self.by_first, self.by_inner = {}, {}
        for name in self.names:
            parts = name.split("/")
            self.by_first.setdefault(parts[0], []).append(name)
            for part in dict.fromkeys(parts[1:-1]):
                self.by_inner.setdefault(part, []).append(name)

    def candidates(self, layer_name):
        """Saved names of `layer_name`'s weights: `dense/kernel`, else `prefix/dense/kernel`."""
        return self.by_first.get(layer_name) or self.by_inner.get(layer_name, [])


def _match_layer(layer, index, source):
    variables = ordered_variables(layer)
    exact = dict(zip(weight_names(layer), variables))
    found = index.candidates(layer.name)
    if len(found) != len(variables):
        raise ValueError(f"{source}: layer '{layer.name}' has {len(variables)} weights, but "
                         f"`{fmt.MANIFEST_KEY}` lists {len(found)} for it ({found}).")
    by_short = {}
    for variable in variables:
        by_short.setdefault(variable.name, []).append(variable)
    pairs = []
    for index, name in enumerate(found):
        short = name.split("/")[-1]
        if name in exact:
            variable = exact[name]
        elif short.isdigit():
            variable = variables[int(short)] if int(short) < len(variables) else None
        elif len(by_short.get(short, [])) == 1:
            variable = by_short[short][0]
        else:
            variable = variables[index]
        if variable is None:
            raise ValueError(f"{source}: weight '{name}' does not match any weight of layer "
                             f"'{layer.name}'.")
        pairs.append((variable, name))
    return pairs


def _by_position(layers, saved, source):
    """{layer name: saved layer name} pairing layers with weights and the manifest's layers
    in order, for weights whose layer names belong to another instance of the model."""
    groups = list(dict.fromkeys(name.split("/")[0] for name in saved))
    if len(groups) != len(layers):
        raise ValueError(f"{source}: `{fmt.MANIFEST_KEY}` holds weights for layers {groups}, "
                         f"but the model's layers with weights are "
                         f"{[layer.name for layer in layers]}.")
    return {layer.name: group for layer, group in zip(layers, groups)}


def _weight_layers(model, index):
    """The layers with weights to match against the manifest: top-level ones, and the layers
    of a nested model whose weights are named by their own layer names (`dense/kernel`), as
    tf.keras 2 and TF.js name them."""
    layers = []
    for layer in _top_layers(model):
        if not layer.weights:
            continue
        if _top_layers(layer) and not index.candidates(layer.name):
            layers.extend(_weight_layers(layer, index))
        else:
            layers.append(layer)
    return layers


def assign_weights(model, saved, source):
    """Assigns `{manifest name: array}` to `model`'s layers, checking every shape first.

    Layers are matched by name; when no layer name occurs in the manifest (weights-only
    files written from another instance), by order of the layers with weights."""
    from webkeras.saving.weights_h5 import assign_all

    index = _SavedNames(saved)
    layers = _weight_layers(model, index)
    renamed = {}
    if layers and not any(index.candidates(layer.name) for layer in layers):
        renamed = _by_position(layers, saved, source)
    assignments, used = [], set()
    for layer in layers:
        view, view_index = saved, index
        if layer.name in renamed:
            prefix = renamed[layer.name] + "/"
            view = {layer.name + "/" + k[len(prefix):]: k
                    for k in index.by_first.get(renamed[layer.name], [])}
            view_index = _SavedNames(view)
        for variable, name in _match_layer(layer, view_index, source):
            original = view[name] if renamed else name
            value = saved[original]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"{source}: weight '{original}' has shape "
                                 f"{tuple(value.shape)}, but layer '{layer.name}' expects "
                                 f"{tuple(variable.shape)}.")
            assignments.append((layer, variable, value))
            used.add(original)
    unused = sorted(set(saved) - used)
    if unused:
        raise ValueError(f"{source}: `{fmt.MANIFEST_KEY}` holds weights no layer takes: "
                         f"{unused[:10]}.")
    assign_all(assignments)


def keras3_layout(saved):
    """True when the manifest names weights by their path in a Keras 3 `.weights.h5`
    (`layers/dense/vars/0`), as `tensorflowjs_converter --input_format=keras_keras` does."""
    from webkeras.saving.weights_h5 import VARS_KEY

    return bool(saved) and all(
        len(parts) > 2 and parts[-2] == VARS_KEY and parts[-1].isdigit()
        for parts in (name.split("/") for name in saved))


def _vars_groups(saved):
    """`{"layers/dense/vars": {"0": array, ...}}`: the `.weights.h5` groups `read_state`
    reads, rebuilt from the manifest's flat names."""
    groups = {}
    for name, value in saved.items():
        group, index = name.rsplit("/", 1)
        groups.setdefault(group, {})[index] = value
    return groups


def load_tfjs(path, custom_objects=None, model=None):
    """Loads a TF.js layers model (`model.json` or its directory) as a webkeras model.

    Reads webkeras's and `tensorflowjs_converter`'s output, tf.keras 2 style
    (`batch_input_shape`) and Keras 3 style (`batch_shape`, `DTypePolicy`, `module`, weights
    named by `.weights.h5` path; the converter's `optimizer/vars/N` entries are not read);
    quantized weights are dequantized to float32. Pass `model` to load a weights-only
    directory into an existing architecture.
    """
    artifact, json_path = read_model_json(path)
    source = f"'{json_path}'"
    if model is None:
        topology_value = artifact.get(fmt.TOPOLOGY_KEY)
        if topology_value is None:
            raise file_errors.ModelFileError(
                f"{source} has no `{fmt.TOPOLOGY_KEY}` (weights only). Pass the architecture: "
                "`load_tfjs(path, model=model)`, or `webkeras convert --config MODEL_JSON`.")
        model = model_from_file_config(topology_value, custom_objects,
                                       source=f"{source} `{fmt.TOPOLOGY_KEY}`")
    with file_errors.reading(source):
        saved = weights.read_manifest(os.path.dirname(json_path), artifact[fmt.MANIFEST_KEY],
                                      source)
        if keras3_layout(saved):
            read_state(_vars_groups(saved), model, source=source)
        else:
            assign_weights(model, saved, source)
    return model
