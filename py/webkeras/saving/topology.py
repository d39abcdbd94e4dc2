"""Model configs between Keras 3's layout and the tf.keras 2 layout TF.js 4.22 reads.

TF.js deserializes `{"class_name", "config"}` objects only: it does not know Keras 3's
`batch_shape`, `DTypePolicy` dicts or `module` / `registered_name` keys, and it reads
functional graphs with tf.keras 2's list-form `inbound_nodes`
(`[[["dense", 0, 0, {}], ...]]`). Reading goes the other way and also accepts Keras 3
configs, as `tensorflowjs_converter` writes them for Keras 3 models.
"""

from webkeras.layers import config_compat

KERAS_TENSOR_CLASS = "__keras_tensor__"
SERIALIZATION_KEYS = ("module", "registered_name", "build_config", "shared_object_id")
BATCH_SHAPE = "batch_shape"
BATCH_INPUT_SHAPE = "batch_input_shape"
INBOUND_NODES = "inbound_nodes"
FUNCTIONAL_CLASSES = ("Functional", "Model")
SEQUENTIAL_CLASSES = ("Sequential",)
CONTAINER_CLASSES = FUNCTIONAL_CLASSES + SEQUENTIAL_CLASSES
# Keras 3 InputLayer keys that tf.keras 2 never wrote.
INPUT_ONLY_KEYS = ("optional",)
SEQUENTIAL_DROPPED = ("build_input_shape",)


def _plain(value):
    """Nested serialized objects without Keras 3's `module` / `registered_name` keys."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "class_name" in value:
        value = {k: v for k, v in value.items() if k not in SERIALIZATION_KEYS}
        if value.get("class_name") in config_compat.DTYPE_POLICY_CLASSES:
            return config_compat.dtype_name(value)
    return {k: _plain(v) for k, v in value.items()}


# -- Keras 3 -> tf.keras 2 -----------------------------------------------------------------------
def _history(value):
    if isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR_CLASS:
        return value["config"]["keras_history"]
    return None


def _nested_models(layers, classes=CONTAINER_CLASSES):
    """Names of the models among `layers`.

    tf.keras 2 and TF.js count a model's own graph as its node 0, so their list-form configs
    call a nested model from node 1 on; Keras 3 counts its calls from 0, except in
    `input_layers` / `output_layers`, where it still counts that node for a Functional (not
    for a Sequential): there only nested Sequentials need `classes=("Sequential",)` moved.
    """
    return frozenset(layer.get("name") or layer.get("config", {}).get("name")
                     for layer in layers if isinstance(layer, dict)
                     and layer.get("class_name") in classes)


def _shift(ref, nested, by):
    """`[layer, node, tensor, ...]` with the node index moved by `by` for a nested model."""
    ref = list(ref)
    if len(ref) > 1 and ref[0] in nested and isinstance(ref[1], int):
        ref[1] += by
    return ref


def _legacy_node(node, nested=frozenset()):
    """Keras 3 `{"args", "kwargs"}` node -> tf.keras 2 list of `[layer, node, tensor, kwargs]`."""
    args, kwargs = node.get("args", []), dict(node.get("kwargs", {}))
    first = args[0] if args else []
    tensors = first if isinstance(first, list) and _history(first[0] if first else None) \
        else [a for a in args if _history(a)]
    extra = {k: v for k, v in kwargs.items() if _history(v) is None}
    return [_shift(_history(t)[:3], nested, 1) + [extra] for t in tensors]


def _refs(refs, nested=frozenset(), by=0):
    if isinstance(refs, dict):
        refs = list(refs.values())
    if refs and not isinstance(refs[0], list):
        refs = [refs]
    return [_shift(r, nested, by) for r in refs]


def to_tfjs_layer(entry, nested=frozenset()):
    """One serialized layer (Keras 3 form) in the form TF.js deserializes; `nested` names
    the models among its siblings."""
    entry = _plain(entry)
    config = dict(entry.get("config", {}))
    class_name = entry["class_name"]
    if class_name == "InputLayer":
        if BATCH_SHAPE in config:
            config[BATCH_INPUT_SHAPE] = config.pop(BATCH_SHAPE)
        for key in INPUT_ONLY_KEYS:
            config.pop(key, None)
    if class_name in CONTAINER_CLASSES:
        # A nested model is a node of the outer graph: keep its name and inbound nodes.
        model = to_tfjs_model(entry)
        for key in ("name", INBOUND_NODES):
            if key in entry:
                model[key] = [_legacy_node(n, nested) if isinstance(n, dict) else n
                              for n in entry[key]] if key == INBOUND_NODES else entry[key]
        return model
    entry["config"] = config
    if INBOUND_NODES in entry:
        entry[INBOUND_NODES] = [_legacy_node(n, nested) if isinstance(n, dict) else n
                                for n in entry[INBOUND_NODES]]
    return entry


def to_tfjs_model(serialized):
    """A serialized Sequential / Functional model (Keras 3 form) in tf.keras 2 form."""
    serialized = _plain(serialized)
    config = {k: v for k, v in serialized["config"].items() if k not in SEQUENTIAL_DROPPED}
    nested = _nested_models(config.get("layers", []))
    sequentials = _nested_models(config.get("layers", []), SEQUENTIAL_CLASSES)
    config["layers"] = [to_tfjs_layer(layer, nested) for layer in config.get("layers", [])]
    class_name = serialized["class_name"]
    if class_name in FUNCTIONAL_CLASSES:
        class_name = "Functional"
        config["input_layers"] = _refs(config.get("input_layers", []), sequentials, 1)
        config["output_layers"] = _refs(config.get("output_layers", []), sequentials, 1)
    return {"class_name": class_name, "config": config}


# TF.js 4.22's GRUCell throws "GRUCell does not support reset_after parameter set to true."
GRU_CLASSES = ("GRU", "GRUCell")


def _reset_after_gru(class_name, config):
    return class_name in GRU_CLASSES and bool(config.get("reset_after"))


def _hard_sigmoid(class_name, config):
    return "hard_sigmoid" in (config.get("activation"), config.get("recurrent_activation"))


# What TF.js 4.22 runs differently from Keras 3: (test on a layer's class and config, why).
TFJS_DIFFERENCES = (
    (_reset_after_gru,
     ("a GRU with reset_after=True (Keras 3's default), which TF.js 4.22's "
      "`tf.loadLayersModel` cannot load ('GRUCell does not support reset_after parameter set "
      "to true'). webkeras's `load_tfjs` and its JS API load it; a GRU built with "
      "reset_after=False loads in TF.js too")),
    (_hard_sigmoid,
     ("the 'hard_sigmoid' activation, which TF.js computes as clip(0.2 * x + 0.5, 0, 1) (as "
      "tf.keras 2 did) while Keras 3 and webkeras compute relu6(x + 3) / 6: TF.js's "
      "predictions will differ. webkeras's `load_tfjs` and its JS API compute it as Keras 3 "
      "does")),
)


def _differences(value):
    """The reasons of TFJS_DIFFERENCES that apply to `value` or any layer it wraps."""
    if isinstance(value, list):
        return [r for v in value for r in _differences(v)]
    if not isinstance(value, dict):
        return []
    found = []
    config = value.get("config")
    if isinstance(config, dict):
        found = [why for test, why in TFJS_DIFFERENCES if test(value.get("class_name"), config)]
    return found + [r for v in value.values() for r in _differences(v) if r not in found]


def tfjs_differences(model_config):
    """[(layer name, reason)] for the layers of a (tf.keras 2 form) model config, nested
    models' included, that TF.js 4.22 cannot load or computes differently."""
    found = []
    for layer in model_config.get("config", {}).get("layers", []):
        if layer.get("class_name") in CONTAINER_CLASSES:
            found.extend(tfjs_differences(layer))
            continue
        name = layer.get("name") or layer.get("config", {}).get("name")
        found.extend((name, why) for why in dict.fromkeys(_differences(layer)))
    return found


# tf.keras 2 / TF.js values Keras 3 renamed: VarianceScaling's "normal" was truncated normal.
LEGACY_VALUES = {("VarianceScaling", "distribution"): {"normal": "truncated_normal"}}


def _modernize(value):
    if isinstance(value, list):
        return [_modernize(v) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: _modernize(v) for k, v in value.items()}
    config = value.get("config")
    if isinstance(config, dict):
        for (class_name, key), renames in LEGACY_VALUES.items():
            if value.get("class_name") == class_name and config.get(key) in renames:
                value["config"] = dict(config, **{key: renames[config[key]]})
    return value


# -- TF.js / tf.keras 2 (or Keras 3) -> Keras 3 --------------------------------------------------
def _tensor(ref):
    return {"class_name": KERAS_TENSOR_CLASS,
            "config": {"shape": None, "dtype": None, "keras_history": list(ref[:3])}}


def _keras3_node(node, nested=frozenset()):
    if isinstance(node, dict):
        return node
    kwargs = next((r[3] for r in node if len(r) > 3 and isinstance(r[3], dict)), {})
    tensors = [_tensor(_shift(r, nested, -1)) for r in node]
    args = [tensors[0]] if len(tensors) == 1 else [tensors]
    return {"args": args, "kwargs": dict(kwargs)}


def _is_list_form(layers):
    return any(isinstance(node, list) for layer in layers if isinstance(layer, dict)
               for node in layer.get(INBOUND_NODES) or [])


def from_tfjs_layer(entry, nested=frozenset()):
    """One layer entry from a TF.js model.json (or a tf.keras 2 `.h5`) in the Keras 3 form
    webkeras deserializes; `nested` names the models among its siblings."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(  # noqa: TRY004
            f"expected a layer object with a 'class_name' string, found {str(entry)[:120]}")
    if entry["class_name"] in CONTAINER_CLASSES:
        model = from_tfjs_model(entry)
        for key in ("name", INBOUND_NODES):
            if key in entry:
                model[key] = [_keras3_node(n, nested) for n in entry[key]] \
                    if key == INBOUND_NODES else entry[key]
        return model
    entry = _modernize(entry)
    config = dict(entry.get("config", {}))
    if entry["class_name"] == "InputLayer" and BATCH_INPUT_SHAPE in config:
        config[BATCH_SHAPE] = config.pop(BATCH_INPUT_SHAPE)
    for key in ("ragged",):
        config.pop(key, None)
    # tf.keras 2 wrote `axis=[3]` (BatchNormalization); Keras 3 takes the int, as its
    # legacy loader does.
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int):
        config["axis"] = axis[0]
    entry["config"] = config
    if INBOUND_NODES in entry:
        entry[INBOUND_NODES] = [_keras3_node(n, nested) for n in entry[INBOUND_NODES]]
    return entry


def from_tfjs_model(topology):
    """A TF.js `modelTopology` (tf.keras 2 or Keras 3 form) as a Keras 3 serialized model."""
    if isinstance(topology.get("model_config"), dict):
        topology = topology["model_config"]
    class_name = topology.get("class_name")
    config = topology.get("config")
    if class_name not in CONTAINER_CLASSES or not isinstance(config, dict):
        raise ValueError(f"expected a Sequential or Functional model config, found "
                         f"class_name={class_name!r}")
    layers = config.get("layers", [])
    if isinstance(config.get("layers"), dict) or not isinstance(layers, list):
        raise ValueError("`config.layers` must be a list of layer objects.")  # noqa: TRY004
    nested = _nested_models(layers) if _is_list_form(layers) else frozenset()
    config = dict(config, layers=[from_tfjs_layer(layer, nested) for layer in layers])
    if class_name in FUNCTIONAL_CLASSES:
        class_name = "Functional"
        sequentials = _nested_models(layers, SEQUENTIAL_CLASSES) if nested else frozenset()
        if sequentials:
            for key in ("input_layers", "output_layers"):
                config[key] = _refs(config.get(key, []), sequentials, -1)
    return {"class_name": class_name, "config": config}
