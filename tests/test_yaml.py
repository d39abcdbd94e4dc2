"""`model.to_yaml()` / `keras.models.model_from_yaml` (tf.keras 2's API) and the pure-Python
YAML they use (webkeras.utils.yaml_lite), checked against PyYAML both ways.

The model round trips use the six interop architectures; the tf.keras 2 test reads the real
configs and weights of tests/reference/tfkeras2/ written as tf.keras 2's `to_yaml()` did.
"""

import io
import json
import math
import random
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import webkeras as keras
import yaml
from interop import max_error, predict, read_reference
from webkeras.utils import yaml_lite

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
        assert yaml_lite.load(text) == yaml.safe_load(text) == config


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
    assert yaml_lite.load(text) == _lists(yaml.full_load(text)) == config
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


# -- yaml_lite against PyYAML --------------------------------------------------------------------
ATOMS = ["", " ", "a", "yes", "No", "null", "~", "1e3", "1.5", "0x1F", "012", "1:30", ".inf",
         "-.5", "2001-12-14", "a: b", "a:b", "#x", "a #b", "a#b", "- x", "-x", "? x", ":x", "'",
         '"', "\\", "\n", "\t", " lead", "trail ", "é", "日本", "\U0001F600", "---", "...",
         "[a]", "{b}", ",", "&a", "*a", "!t", "|", ">", "%", "@", "`", "=", "<<", "true", "on",
         "1_0", "+1", "0b1", "x" * 90, "word " * 20, "a\n\nb", "a \n b", "\xa0", "\ufeff",
         "\x00", "\x7f", "\x85", "\u2028"]
NUMBERS = [0, -7, 10**20, 0.0, -0.0, 1.5, 1e17, 1e-7, -2.5e-300, 5e-324, math.inf, -math.inf,
           math.nan]


def _random_value(rng, depth=0):
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        text = "".join(rng.choice(ATOMS) for _ in range(rng.randint(0, 4)))
        return rng.choice([None, True, False, rng.choice(NUMBERS), rng.uniform(-1e6, 1e6),
                           rng.randint(-10**6, 10**6), text, text])
    size = rng.randint(0, 4)
    if roll < 0.72:
        return [_random_value(rng, depth + 1) for _ in range(size)]
    return {"".join(rng.choice(ATOMS) for _ in range(rng.randint(0, 3))):
            _random_value(rng, depth + 1) for _ in range(size)}


def test_random_values_round_trip_through_pyyaml():
    rng = random.Random(7)
    for _ in range(600):
        value = _random_value(rng)
        for allow_unicode in (False, True):
            ours = yaml_lite.dump(value, allow_unicode=allow_unicode)
            theirs = yaml.safe_dump(value, allow_unicode=allow_unicode)
            assert_same(yaml.safe_load(ours), value)
            if any(c in theirs for c in "\x85\u2028\u2029"):
                # With allow_unicode PyYAML may write U+0085/2028/2029 raw (YAML line breaks);
                # yaml_lite escapes them when writing and refuses them raw when reading.
                with pytest.raises(ValueError, match="cannot appear as it is"):
                    yaml_lite.load(theirs)
                continue
            assert_same(yaml_lite.load(theirs), value)
            assert ours == yaml.safe_dump(value, allow_unicode=allow_unicode, width=math.inf)


def test_reads_folded_and_flow_pyyaml_output_like_pyyaml():
    rng = random.Random(11)
    styles = [{"width": 12}, {"default_flow_style": None, "width": 20}, {"indent": 3},
              {"default_flow_style": True, "explicit_start": True, "explicit_end": True}]
    for _ in range(200):
        value = _random_value(rng)
        for style in styles:
            text = yaml.safe_dump(value, **style)
            # Where PyYAML misreads its own folded output, yaml_lite reads it the same way.
            assert_same(yaml_lite.load(text), yaml.safe_load(text))


def test_hand_written_yaml():
    text = """\
# a comment
%s
name: "caf\\u00e9\\x21"   # trailing comment
shape: [null, 28,
        28, 1]
flags: {a: yes, b: Off, c: ~}
numbers: [0o12, 012, 0x1F, 0b101, 1_000, 1:30, -1:30.5, 1.0e+3, 1e3, .5, -.INF, .NaN]
text: 'it''s
  folded

  twice'
plain: a long
  plain text
? explicit key
: - indented
  - sequence
nested:
- - 1
  - 2
- a: 1
  b:
  - x
"""
    for directive_free in ("---", ""):
        document = text % directive_free
        assert_same(yaml_lite.load(document), yaml.safe_load(document))


@pytest.mark.parametrize("text, message", [
    ("!!python/object/apply:os.system ['echo pwned']", "tag '!!python/object/apply:os.system'"),
    ("a: !!python/name:os.system", "tag '!!python/name:os.system'"),
    ("a: !custom 1", "tag '!custom'"),
    ("a: &x 1\nb: *x", "line 1, column 4: anchors"),
    ("a: *x", "aliases"),
    ("a: |\n  text\n", "block scalars"),
    ("a: 1\n---\nb: 2\n", "line 2, column 1: a second document"),
    ("%YAML 1.1\n---\na: 1\n", "directives"),
    ("a:\n\tb: 1\n", "line 2.*tab"),
    ("a: 'open\n", "line 1, column 4: the string opened here has no closing '"),
    ("a: [1, 2\n", "no closing ']'"),
    ('a: "\\q"\n', "unknown escape sequence"),
    ("a: b: c\n", "line 1, column 5: expected the end of the line"),
    ("a: '1'\n  b: 2\n", "line 2, column 3: expected a mapping key at column 1"),
    ("a: 1\n  b: 2\n", "line 2, column 4: expected the end of the line, found ': 2'"),
    ("- 1\nb: 2\n", "line 2, column 1: expected the end of the document"),
    ("a: 2001-12-14\n", "date"),
    ("a: \x01\n", "U\\+0001"),
    ("a: !!python/tuple 5\n", "must tag a sequence"),
    ("[a]: 1\n", "expected the end of the line"),
    ("a: 0x_\n", "looks like a number but has no digits"),
])
def test_unsupported_yaml_is_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        yaml_lite.load(text)


def test_python_tags_never_run(tmp_path):
    marker = tmp_path / "ran"
    config = json.loads(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).to_json())
    text = yaml.safe_dump(config).replace(
        "name: dense", f"name: !!python/object/apply:os.system ['touch {marker}']")
    with pytest.raises(ValueError, match=r"line \d+, column \d+: the tag "
                                         "'!!python/object/apply:os.system' is not supported"):
        keras.models.model_from_yaml(text)
    assert not marker.exists()


def test_dump_rejects_what_yaml_cannot_hold():
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested too deeply or contains itself"):
        yaml_lite.dump(loop)
    with pytest.raises(TypeError, match="Cannot write float32 values"):
        yaml_lite.dump({"x": np.float32(1)})
    with pytest.raises(ValueError, match="nested too deeply"):
        yaml_lite.load("[" * 5000 + "]" * 5000)
