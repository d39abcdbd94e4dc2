"""Safe mode: a model file names functions and classes only from explicit tables.

A Lambda's function written as `{"module": ..., "config": name}` resolves, unless the caller
passes `safe_mode=False`, only to webkeras's keras.ops / keras.activations functions or to
custom / registered objects; a layer class only to a Layer that keras.layers / keras.models
export. Every loader goes through the same resolver, so a file naming
`webkeras.utils.download.get_file` (which would download a URL into a folder the file picks)
is refused by all of them, before anything is called.
"""

import importlib
import inspect
import json
import pkgutil
import types
import zipfile

import numpy as np
import pytest
import webkeras as keras
from webkeras.layers.core.lambda_layer import Lambda
from webkeras.layers import config_compat, serialization
from webkeras.layers.core import safe_functions
from webkeras.saving.tfjs import load_tfjs, save_tfjs
from webkeras.utils.file_errors import UnknownObjectError, UnsafeContentError

KERAS_ROOTS = ("webkeras", "webkeras.server", "webkeras.kernels")


def _all_modules():
    """Every importable module of the webkeras package (and its server / kernels parts)."""
    modules = {}
    for root in KERAS_ROOTS:
        try:
            package = importlib.import_module(root)
        except ImportError:
            continue
        modules[root] = package
        for info in pkgutil.walk_packages(package.__path__, root + "."):
            if info.name.endswith("__main__"):
                continue
            try:
                modules[info.name] = importlib.import_module(info.name)
            except ImportError:
                continue
    return modules


def _lambda_config(module, name, layer_name="fn", arguments=None):
    return {"name": layer_name, "trainable": True, "arguments": arguments or {},
            "function": {"module": module, "class_name": "function", "config": name,
                         "registered_name": "function"}}


def _resolve(module, name):
    """The function a Lambda config naming `module.name` gets in safe mode, or None."""
    try:
        return Lambda.from_config(_lambda_config(module, name), safe_mode=True).function
    except UnsafeContentError:
        return None


# -- (a) the allow-list, checked against everything webkeras holds ------------------------------
def test_allow_list_holds_only_ops_and_activations_functions():
    allowed = list(safe_functions.allowed())
    assert len(allowed) > 90
    for fn in allowed:
        assert inspect.isfunction(fn), fn
        assert fn.__module__.startswith("webkeras.ops.") or \
            fn.__module__ == "webkeras.activations", (fn, fn.__module__)


@pytest.mark.parametrize("namespace, listed, helpers", [
    ("webkeras.ops", safe_functions.OPS_FUNCTIONS,
     safe_functions.OPS_HELPERS + safe_functions.OPS_CONTROL_FLOW),
    ("webkeras.activations", safe_functions.ACTIVATION_FUNCTIONS,
     safe_functions.ACTIVATION_HELPERS),
])
def test_every_public_function_is_either_allowed_or_a_listed_helper(namespace, listed, helpers):
    # A function added to ops later must be classified here, never allowed by default.
    module = importlib.import_module(namespace)
    public = {name for name in dir(module)
              if not name.startswith("_") and inspect.isfunction(getattr(module, name))}
    assert not set(listed) & set(helpers)
    assert public == set(listed) | set(helpers)


def test_every_module_attribute_resolves_in_safe_mode_only_if_allowed():
    allowed_ids = {id(fn) for fn in safe_functions.allowed()}
    ops_table, activations_table = safe_functions.tables()
    allowed_names = set(ops_table) | set(activations_table)
    checked, resolved, names = 0, 0, set()
    for module_name, module in _all_modules().items():
        for attr, value in list(vars(module).items()):
            if not callable(value):
                continue
            names.add(attr)
            found = _resolve(module_name, attr)
            checked += 1
            if found is None:
                assert id(value) not in allowed_ids or value.__module__ != module_name, \
                    f"{module_name}.{attr} is allowed but did not resolve"
                continue
            resolved += 1
            assert found is value and id(value) in allowed_ids, \
                f"{module_name}.{attr} resolved in safe mode to {found!r}, not on the allow-list"
    assert checked > 1000 and resolved > 90
    # Keras's own module paths are matched by name: only allowed names resolve.
    for name in names:
        for module_name in ("keras.src.utils.file_utils", "keras.src.ops.numpy",
                            "keras.src.activations.activations"):
            found = _resolve(module_name, name)
            assert (found is not None) == (name in allowed_names), (module_name, name)
            assert found is None or id(found) in allowed_ids


def test_each_allowed_function_resolves_from_where_it_is_defined_and_its_namespace():
    ops_table, activations_table = safe_functions.tables()
    for namespace, table in (("webkeras.ops", ops_table),
                             ("webkeras.activations", activations_table)):
        for name, fn in table.items():
            assert _resolve(namespace, name) is fn
            assert _resolve(fn.__module__, fn.__name__) is fn


def test_layer_class_names_resolve_only_to_exported_layers():
    layer_classes = set(serialization.builtin_layer_classes().values())
    assert all(issubclass(cls, keras.layers.Layer) for cls in layer_classes)
    names = {attr for module in _all_modules().values() for attr in vars(module)}
    for name in names | {"__class__", "__loader__", "KerasTensor", "InputSpec", "Tensor"}:
        cls = serialization._find_class(name, None)
        assert cls is None or cls in layer_classes, (name, cls)


def test_nested_class_tables_hold_only_initializers_regularizers_constraints():
    bases = {"keras.initializers": keras.initializers.Initializer,
             "keras.regularizers": keras.regularizers.Regularizer,
             "keras.constraints": keras.constraints.Constraint}
    for module, table in config_compat.nested_classes().items():
        assert all(issubclass(cls, bases[module]) for cls in table.values()), module


def test_unknown_class_is_an_unknown_object_error_and_a_type_error():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    config = json.loads(model.to_json())
    for class_name in ("NoSuchLayer", "KerasTensor", "__class__"):
        config["config"]["layers"][-1]["class_name"] = class_name
        with pytest.raises(UnknownObjectError, match="custom_objects") as info:
            keras.models.model_from_json(json.dumps(config))
        assert isinstance(info.value, TypeError)
        assert f"'{class_name}'" in str(info.value)


# -- (b) the get_file Lambda, through every loader -----------------------------------------------
def _identity(x, **kwargs):
    return x


def _posing_as(module, name):
    """A harmless function that `Lambda.get_config` writes as `module.name`: saving a model
    with it gives exactly the file an attacker would craft."""
    fn = types.FunctionType(_identity.__code__, globals(), name)
    fn.__module__, fn.__qualname__ = module, name
    return fn


def _get_file_model(kind, arguments):
    layer = keras.layers.Lambda(_posing_as("webkeras.utils.download", "get_file"),
                                arguments=arguments, name="fetcher")
    if kind == "sequential":
        return keras.Sequential([keras.Input((3,)), layer, keras.layers.Dense(2)])
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))


def _via_keras(model, tmp_path):
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert "webkeras.utils.download" in archive.read("config.json").decode()
    return lambda: keras.saving.load_model(tmp_path / "m.keras")


def _via_h5(model, tmp_path):
    model.save(tmp_path / "m.h5")
    assert b"webkeras.utils.download" in (tmp_path / "m.h5").read_bytes()
    return lambda: keras.saving.load_model(tmp_path / "m.h5")


def _via_json(model, tmp_path):
    text = model.to_json()
    assert "webkeras.utils.download" in text
    return lambda: keras.models.model_from_json(text)


def _via_yaml(model, tmp_path):
    text = model.to_yaml()
    assert "webkeras.utils.download" in text
    return lambda: keras.models.model_from_yaml(text)


def _lambda_entries(value):
    """The serialized Lambda layers anywhere in a JSON value."""
    if isinstance(value, list):
        return [entry for item in value for entry in _lambda_entries(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("class_name") == "Lambda" else []
    return own + [entry for item in value.values() for entry in _lambda_entries(item)]


def _via_tfjs(model, tmp_path):
    save_tfjs(model, tmp_path / "tfjs")
    # TF.js topologies drop `module` keys; a crafted model.json (or tensorflowjs_converter's
    # output for a Keras 3 model) keeps Keras 3's function dict.
    path = tmp_path / "tfjs" / "model.json"
    artifact = json.loads(path.read_text())
    (entry,) = _lambda_entries(artifact["modelTopology"])
    entry["config"]["function"] = _lambda_config("webkeras.utils.download", "get_file")[
        "function"]
    path.write_text(json.dumps(artifact))
    return lambda: load_tfjs(tmp_path / "tfjs")


def _via_from_config(model, tmp_path):
    # A config handed to `from_config` by user code: safe mode is on by default there too.
    config = json.loads(model.to_json())
    cls = keras.Sequential if config["class_name"] == "Sequential" else keras.models.Functional
    return lambda: cls.from_config(config["config"])


LOADERS = {"keras": _via_keras, "h5": _via_h5, "json": _via_json, "yaml": _via_yaml,
           "tfjs": _via_tfjs, "from_config": _via_from_config}


@pytest.mark.parametrize("kind", ["sequential", "functional"])
@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_get_file_lambda_is_refused_by_every_loader(tmp_path, kind, loader):
    marker = tmp_path / "marker.txt"
    marker.write_text("downloaded")
    cache = tmp_path / "cache"
    cache.mkdir()
    arguments = {"origin": marker.as_uri(), "cache_dir": str(cache), "cache_subdir": "loot"}
    saved = tmp_path / "saved"
    saved.mkdir()
    load = LOADERS[loader](_get_file_model(kind, arguments), saved)
    with pytest.raises(UnsafeContentError) as info:
        load()
    message = str(info.value)
    for phrase in ("'fetcher'", "'webkeras.utils.download'", "'get_file'", "custom_objects",
                   "register_keras_serializable", "safe_mode=False"):
        assert phrase in message, message
    assert list(cache.iterdir()) == []
    assert marker.read_text() == "downloaded"


def test_get_file_resolves_only_when_safe_mode_is_off():
    from webkeras.utils.download import get_file

    config = _lambda_config("webkeras.utils.download", "get_file", "fetcher")
    with pytest.raises(UnsafeContentError, match="'fetcher'"):
        Lambda.from_config(config)
    # Only building the layer: with safe mode off, the named module is imported as before.
    assert Lambda.from_config(config, safe_mode=False).function is get_file


def test_stored_bytecode_is_unsafe_content_naming_the_layer():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t + 1.0,
                                                                     name="adder")])
    with pytest.raises(UnsafeContentError, match="safe_mode=False.*'adder'"):
        keras.models.model_from_json(model.to_json())


# -- (c) what Keras 3 writes for ops and activations still loads in safe mode --------------------
@pytest.mark.parametrize("module, name, expected", [
    ("keras.src.ops.numpy", "square", [[4.0, 9.0, 0.25]]),
    ("keras.src.activations.activations", "relu", [[2.0, 0.0, 0.5]]),
    ("keras.src.ops.nn", "relu", [[2.0, 0.0, 0.5]]),
    ("keras.activations", "linear", [[2.0, -3.0, 0.5]]),
])
def test_keras_ops_and_activations_load_in_safe_mode(tmp_path, module, name, expected):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(abs, name="fn")])
    config = json.loads(model.to_json())
    config["config"]["layers"][-1]["config"] = _lambda_config(module, name)
    restored = keras.models.model_from_json(json.dumps(config))
    x = np.array([[2.0, -3.0, 0.5]], "float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), expected, rtol=1e-6)
    restored.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-6)


@pytest.mark.parametrize("fn", [keras.ops.square, keras.ops.slice, keras.activations.swish])
def test_webkeras_written_ops_round_trip_in_safe_mode(tmp_path, fn):
    if fn is keras.ops.slice:
        layer = keras.layers.Lambda(fn, arguments={"start_indices": (0, 1), "shape": (1, 2)})
    else:
        layer = keras.layers.Lambda(fn)
    model = keras.Sequential([keras.Input((3,)), layer])
    model.save(tmp_path / "m.keras")
    x = np.array([[2.0, -3.0, 0.5]], "float32")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))


# -- (d) custom and registered functions --------------------------------------------------------
def _triple(x):
    return x * 3.0


@keras.saving.register_keras_serializable(package="safe_mode_test")
def _registered_negate(x):
    return -x


@pytest.mark.parametrize("safe_mode", [True, False])
def test_registered_function_loads(tmp_path, safe_mode):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(_registered_negate)])
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=safe_mode)
    np.testing.assert_allclose(restored.predict(np.array([[1.0, -2.0]]), verbose=0),
                               [[-1.0, 2.0]])


def test_custom_function_loads_through_custom_objects_or_without_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(_triple, name="tri")])
    model.save(tmp_path / "m.keras")
    x = np.array([[1.0, -2.0]])
    with pytest.raises(UnsafeContentError, match="'_triple'.*'tri'.*safe_mode=False"):
        keras.saving.load_model(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", custom_objects={"_triple": _triple})
    np.testing.assert_allclose(restored.predict(x, verbose=0), [[3.0, -6.0]])
    # With safe mode off the module the file names (this one, already imported) is used.
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=False)
    np.testing.assert_allclose(restored.predict(x, verbose=0), [[3.0, -6.0]])


def test_function_from_a_missing_module_without_safe_mode_is_unknown():
    config = _lambda_config("no_such_module_for_safe_mode", "f", "lost")
    with pytest.raises(UnknownObjectError, match="'f'.*no_such_module_for_safe_mode"):
        Lambda.from_config(config, safe_mode=False)
