"""`model.to_yaml()` / `keras.models.model_from_yaml` (tf.keras 2's API) through PyYAML, and
what the model-file reader (webkeras.utils.yaml_io) refuses that PyYAML's safe_load accepts.

The model round trips use the six interop architectures; the tf.keras 2 test reads the real
configs and weights of tests/reference/tfkeras2/ written as tf.keras 2's `to_yaml()` did.
"""

import io
import json
import math
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import webkeras as keras
import yaml
from interop import max_error, predict, read_reference
from webkeras.utils import yaml_io

sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
from architectures import MODELS

TFKERAS2 = Path(__file__).resolve().parent / "reference" / "tfkeras2"
NAMES = sorted(MODELS)


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()
    yield


def _tagged(value):
    """`value` with its types made explicit, so 1 != 1.0 != True and nan == nan."""
    if isinstance(value, dict):
        return ("dict", sorted((_tagged(k), _tagged(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", [_tagged(v) for v in value])
    return (type(value).__name__, repr(value))


def assert_same(got, expected):
    assert _tagged(got) == _tagged(expected)


# -- models --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_round_trip_keeps_config_and_predictions(name):
    model = MODELS[name](keras)
    text = model.to_yaml()
    config = json.loads(model.to_json())
    # The same data as to_json, in the bytes PyYAML writes for it (when it does not fold).
    assert yaml.safe_load(text) == config
    assert text == yaml.safe_dump(config, width=math.inf)
    clone = keras.models.model_from_yaml(text)
    assert json.loads(clone.to_json()) == config
    assert clone.to_yaml() == text
    clone.set_weights(model.get_weights())
    xs, _ = read_reference(TFKERAS2 / f"{name}.npz")
    for got, expected in zip(predict(clone, xs), predict(model, xs)):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", NAMES)
def test_reads_what_pyyaml_writes_for_model_configs(name):
    config = json.loads(MODELS[name](keras).to_json())
    variants = [yaml.safe_dump(config), yaml.dump(config),
                yaml.dump(config, default_flow_style=None), yaml.safe_dump(config, width=30),
                yaml.safe_dump(config, indent=4, sort_keys=False, explicit_start=True),
                yaml.safe_dump(config, default_flow_style=True, width=60),
                json.dumps(config, indent=1)]
    for text in variants:
        assert yaml_io.load(text) == yaml.safe_load(text) == config


def _as_tf_keras2_held_them(value):
    # tf.keras 2's get_config kept shapes, kernel sizes and strides as tuples; yaml.dump
    # wrote those as `!!python/tuple`.
    if isinstance(value, dict):
        return {k: _as_tf_keras2_held_them(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_as_tf_keras2_held_them(v) for v in value]
        shape_like = items and all(v is None or isinstance(v, int) for v in items)
        return tuple(items) if shape_like else items
    return value


def _lists(value):
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


@pytest.mark.parametrize("name", NAMES)
def test_tf_keras2_to_yaml_and_to_json_text_load_and_predict(name):
    with h5py.File(TFKERAS2 / f"{name}.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])
        config.update(keras_version=f.attrs["keras_version"], backend=f.attrs["backend"])
    # tf.keras 2's Model.to_yaml(): `yaml.dump(self._updated_config())`.
    text = yaml.dump(_as_tf_keras2_held_them(config))
    assert "!!python/tuple" in text
    assert yaml_io.load(text) == _lists(yaml.full_load(text)) == config
    xs, ys = read_reference(TFKERAS2 / f"{name}.npz")
    # The same config as tf.keras 2's `to_json()` reads too.
    for model in (keras.models.model_from_yaml(text),
                  keras.models.model_from_json(json.dumps(config))):
        model.load_weights(TFKERAS2 / f"{name}_weights.h5")
        assert max_error(predict(model, xs), ys) <= 1e-5


def test_lambda_layers_obey_safe_mode():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    text = model.to_yaml()
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.model_from_yaml(text)
    clone = keras.models.model_from_yaml(text, safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 3))).numpy(), [[2, 2, 2]])


def test_custom_objects_and_file_input():
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((2,))
    text = keras.Model(inputs, Doubler()(inputs)).to_yaml()
    with pytest.raises(TypeError, match="custom_objects"):
        keras.models.model_from_yaml(text)
    for source in (text, text.encode(), io.StringIO(text)):
        clone = keras.models.model_from_yaml(source, custom_objects={"Doubler": Doubler})
        np.testing.assert_allclose(clone(np.ones((1, 2))).numpy(), [[2, 2]])


def test_names_that_need_quotes_and_dump_options():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dé: #1")],
                             name="yes")
    config = json.loads(model.to_json())
    for options in ({}, {"allow_unicode": True}, {"sort_keys": False}):
        text = model.to_yaml(**options)
        assert text == yaml.safe_dump(config, width=math.inf, **options)
        clone = keras.models.model_from_yaml(text)
        assert clone.name == "yes" and clone.layers[-1].name == "dé: #1"
    assert "dé: #1" in model.to_yaml(allow_unicode=True)
    with pytest.raises(TypeError, match=r"\['indent'\].*sort_keys"):
        model.to_yaml(indent=4)


# -- what the reader refuses ----------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("!!python/object/apply:os.system ['echo pwned']",
     "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("a: !!python/name:os.system", "tag:yaml.org,2002:python/name:os.system"),
    ("a: !custom 1", "tag '!custom'"),
    ("a: &x 1\nb: *x", "line 1, column 4: anchors and aliases are not accepted"),
    ("a: *x", "anchors and aliases are not accepted"),
    ("a: 1\n---\nb: 2\n", "expected a single document"),
    ("a: 'open\n", "found unexpected end of stream"),
    ("a: [1, 2\n", "expected ',' or ']'"),
    ("a: b: c\n", "line 1, column 5: mapping values are not allowed here"),
    ("a: !!python/tuple 5\n", "!!python/tuple must tag a sequence, found a scalar"),
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
])
def test_unsupported_yaml_is_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        keras.models.model_from_yaml(text)


def test_billion_laughs_is_refused_before_expanding():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 10 ** 9 leaves once expanded
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    with pytest.raises(ValueError, match="anchors and aliases"):
        keras.models.model_from_yaml("\n".join(lines))


def test_dates_stay_text_and_tuples_read_as_lists():
    assert yaml_io.load("a: 2001-12-14\nb: !!python/tuple [1, 2]\n") == {
        "a": "2001-12-14", "b": [1, 2]}


def test_python_tags_never_run(tmp_path):
    marker = tmp_path / "ran"
    config = json.loads(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).to_json())
    text = yaml.safe_dump(config).replace(
        "name: dense", f"name: !!python/object/apply:os.system ['touch {marker}']")
    with pytest.raises(ValueError, match=r"could not determine a constructor for the tag "
                                         "'tag:yaml.org,2002:python/object/apply:os.system'"):
        keras.models.model_from_yaml(text)
    assert not marker.exists()
