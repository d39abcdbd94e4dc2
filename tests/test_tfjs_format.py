"""TF.js layers-model format: webkeras -> model.json + shards -> webkeras, quantization,
sharding, Keras-3-style (converter) input and bad inputs. Real TF.js is in test_tfjs_node.py."""

import json
import os
import sys
import warnings

import numpy as np
import pytest
import webkeras as keras
from webkeras.saving import tfjs
from webkeras.saving.tfjs import format as fmt
from webkeras.saving.tfjs import quantize as quant

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "reference"))
from shared_graphs import build_all


def _randomize(model, seed=0):
    """Random weights everywhere (BatchNormalization variances kept positive)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = [rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in layer.get_weights()]
        if type(layer).__name__ == "BatchNormalization":
            values[-1] = np.abs(values[-1]) + 0.5
        layer.set_weights(values)
    return model


def mlp():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    return model, [np.random.default_rng(1).random((4, 6), dtype=np.float32)]


def cnn():
    model = keras.Sequential([
        keras.Input((8, 8, 2)), keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.BatchNormalization(), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(2)])
    return model, [np.random.default_rng(2).random((3, 8, 8, 2), dtype=np.float32)]


def embedding_lstm():
    model = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(10, 4),
                              keras.layers.LSTM(3), keras.layers.Dense(1, activation="sigmoid")])
    return model, [np.random.default_rng(3).integers(0, 10, (2, 5)).astype("int32")]


def two_input():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    x = keras.layers.Concatenate()([keras.layers.Dense(4, activation="tanh", name="hidden")(a), b])
    model = keras.Model([a, b], keras.layers.Dense(2, name="out")(x))
    rng = np.random.default_rng(4)
    return model, [rng.random((2, 3), dtype=np.float32), rng.random((2, 2), dtype=np.float32)]


def nested():
    """Models inside models, called twice, beside a shared layer: the nesting TF.js and
    tf.keras 2 count nodes of differently from Keras 3."""
    core = keras.Sequential([keras.Input((4,)),
                             keras.layers.Dense(3, activation="tanh", name="core_dense")],
                            name="core")
    inner_in = keras.Input((4,))
    hidden = keras.layers.Dense(4, activation="relu", name="inner_dense")(inner_in)
    inner = keras.Model(inner_in, core(hidden), name="inner")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    x = keras.layers.Concatenate(name="merge")([inner(ha), inner(hb), hb])
    model = keras.Model([a, b], keras.layers.Dense(2, name="out")(x))
    rng = np.random.default_rng(5)
    return model, [rng.random((3, 4), dtype=np.float32), rng.random((3, 4), dtype=np.float32)]


def gru():
    # reset_after=False: the GRU TF.js 4.22 can run (Keras 3's default is True).
    model = keras.Sequential([keras.Input((5, 3)),
                              keras.layers.GRU(4, reset_after=False, return_sequences=True),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    return model, [np.random.default_rng(6).random((2, 5, 3), dtype=np.float32)]


MODELS = {"mlp": mlp, "cnn": cnn, "embedding_lstm": embedding_lstm, "two_input": two_input,
          "nested": nested, "gru": gru}


def build(name):
    model, inputs = MODELS[name]()
    return _randomize(model), inputs


def predict(model, inputs):
    return np.asarray(model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0))


def _manifest(directory):
    with open(os.path.join(directory, fmt.MODEL_JSON)) as f:
        return json.load(f)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_float32_round_trip_is_exact(tmp_path, name):
    model, inputs = build(name)
    tfjs.save_tfjs(model, tmp_path)
    restored = tfjs.load_tfjs(tmp_path)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(predict(model, inputs), predict(restored, inputs))
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]


def test_model_json_is_tf_keras_2_style(tmp_path):
    model, _ = build("two_input")
    tfjs.save_tfjs(model, tmp_path)
    artifact = _manifest(tmp_path)
    assert artifact[fmt.FORMAT_KEY] == fmt.LAYERS_MODEL_FORMAT
    assert artifact[fmt.GENERATED_BY_KEY].startswith("webkeras")
    assert artifact[fmt.CONVERTED_BY_KEY]
    topo = artifact[fmt.TOPOLOGY_KEY]
    assert set(topo) == {fmt.KERAS_VERSION_KEY, fmt.BACKEND_KEY, fmt.MODEL_CONFIG_KEY}
    text = json.dumps(topo)
    for keras3_only in ('"batch_shape"', '"module"', '"registered_name"', "DTypePolicy"):
        assert keras3_only not in text
    layers = topo[fmt.MODEL_CONFIG_KEY]["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer"
    assert layers[0]["config"]["batch_input_shape"] == [None, 3]
    concat = next(e for e in layers if e["class_name"] == "Concatenate")
    assert concat["inbound_nodes"] == [[["hidden", 0, 0, {}], ["b", 0, 0, {}]]]
    assert topo[fmt.MODEL_CONFIG_KEY]["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert all(isinstance(e["config"]["dtype"], str) for e in layers)
    names = [w["name"] for w in artifact[fmt.MANIFEST_KEY][0]["weights"]]
    assert names == ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]
    assert artifact[fmt.MANIFEST_KEY][0]["paths"] == ["group1-shard1of1.bin"]


def _weight_specs(directory):
    return [spec for group in _manifest(directory)[fmt.MANIFEST_KEY] for spec in group["weights"]]


def test_nested_models_are_written_as_tfjs_writes_them(tmp_path):
    model, inputs = build("nested")
    tfjs.save_tfjs(model, tmp_path)
    config = _manifest(tmp_path)[fmt.TOPOLOGY_KEY][fmt.MODEL_CONFIG_KEY]["config"]
    layers = {entry["name"]: entry for entry in config["layers"]}
    # TF.js counts a model's own graph as its node 0: calls of a nested model start at 1.
    assert layers["merge"]["inbound_nodes"] == [
        [["inner", 1, 0, {}], ["inner", 2, 0, {}], ["shared", 1, 0, {}]]]
    assert layers["inner"]["inbound_nodes"] == [[["shared", 0, 0, {}]], [["shared", 1, 0, {}]]]
    inner = layers["inner"]["config"]
    assert inner["output_layers"] == [["core", 1, 0]]
    assert next(e for e in inner["layers"] if e["name"] == "core")["class_name"] == "Sequential"
    # TF.js names a nested model's weights by its own layers' names, at any depth.
    names = [spec["name"] for spec in _weight_specs(tmp_path)]
    assert sorted(names) == sorted(f"{layer}/{weight}" for weight in ("kernel", "bias")
                                   for layer in ("shared", "inner_dense", "core_dense", "out"))
    restored = tfjs.load_tfjs(tmp_path)
    np.testing.assert_array_equal(predict(model, inputs), predict(restored, inputs))


def test_reads_nested_weights_prefixed_by_their_model(tmp_path):
    # Earlier webkeras wrote `inner/inner_dense/kernel`; keep reading it.
    model, inputs = build("nested")
    tfjs.save_tfjs(model, tmp_path)
    artifact = _manifest(tmp_path)
    for spec in artifact[fmt.MANIFEST_KEY][0]["weights"]:
        if spec["name"].split("/")[0] in ("inner_dense", "core_dense"):
            spec["name"] = "inner/" + spec["name"]
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    np.testing.assert_array_equal(predict(model, inputs), predict(tfjs.load_tfjs(tmp_path), inputs))


def clashing_names():
    """A nested model holding a layer named like one of the outer model's."""
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, keras.layers.Dense(2, name="dense")(inner_in), name="inner")
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1, name="dense")(inner(x)))
    return _randomize(model), [np.random.default_rng(7).random((2, 3), dtype=np.float32)]


def test_nested_weight_names_that_repeat_keep_the_model_prefix(tmp_path):
    model, inputs = clashing_names()
    with pytest.warns(UserWarning, match=r"Nested model 'inner'.*Duplicate weight name"):
        tfjs.save_tfjs(model, tmp_path)
    names = [spec["name"] for spec in _weight_specs(tmp_path)]
    assert names == ["inner/dense/kernel", "inner/dense/bias", "dense/kernel", "dense/bias"]
    np.testing.assert_array_equal(predict(model, inputs), predict(tfjs.load_tfjs(tmp_path), inputs))


def gru_models():
    """{expected warned layer names: model} for GRUs with reset_after=True, plain, wrapped
    and inside a nested model."""
    inner_in = keras.Input((5, 3))
    inner = keras.Model(inner_in, keras.layers.GRU(2, name="inner_gru")(inner_in), name="inner")
    x = keras.Input((5, 3))
    return {
        ("gru",): keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4, name="gru")]),
        ("bidirectional",): keras.Sequential([
            keras.Input((5, 3)), keras.layers.Bidirectional(keras.layers.GRU(2),
                                                            name="bidirectional")]),
        ("inner_gru",): keras.Model(x, keras.layers.Dense(1)(inner(x))),
    }


def test_gru_with_reset_after_warns_that_tfjs_cannot_load_it(tmp_path):
    for expected, model in gru_models().items():
        _randomize(model)
        with pytest.warns(UserWarning) as caught:
            tfjs.save_tfjs(model, tmp_path / expected[0])
        messages = [str(w.message) for w in caught]
        assert len(messages) == len(expected), messages
        for name, message in zip(expected, messages):
            assert message.startswith(f"Layer '{name}' has a GRU with reset_after=True")
            assert "`tf.loadLayersModel` cannot load" in message and "load_tfjs" in message
        # webkeras itself reads it back.
        x = np.random.default_rng(8).random((2, 5, 3), dtype=np.float32)
        np.testing.assert_array_equal(predict(model, [x]),
                                      predict(tfjs.load_tfjs(tmp_path / expected[0]), [x]))


def test_hard_sigmoid_warns_that_tfjs_computes_it_differently(tmp_path):
    model = keras.Sequential([
        keras.Input((5, 3)),
        keras.layers.LSTM(4, recurrent_activation="hard_sigmoid", return_sequences=True,
                          name="lstm"),
        keras.layers.GRU(2, activation="hard_sigmoid", reset_after=False, name="gru"),
        keras.layers.Dense(2, activation="hard_sigmoid", name="dense"),
        keras.layers.Dense(1, activation="sigmoid", name="plain")])
    with pytest.warns(UserWarning) as caught:
        tfjs.save_tfjs(model, tmp_path / "hard")
    messages = [str(w.message) for w in caught]
    assert [m.split("'")[1] for m in messages] == ["lstm", "gru", "dense"], messages
    assert all("clip(0.2 * x + 0.5, 0, 1)" in m and "relu6(x + 3) / 6" in m for m in messages)
    x = np.random.default_rng(9).random((2, 5, 3), dtype=np.float32)
    np.testing.assert_array_equal(predict(model, [x]),
                                  predict(tfjs.load_tfjs(tmp_path / "hard"), [x]))


def test_gru_without_reset_after_does_not_warn(tmp_path):
    model, _ = build("gru")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tfjs.save_tfjs(model, tmp_path)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16"])
@pytest.mark.parametrize("name", ["mlp", "cnn", "embedding_lstm"])
def test_quantized_round_trip_within_step(tmp_path, name, dtype):
    model, inputs = build(name)
    tfjs.save_tfjs(model, tmp_path, quantize=dtype)
    specs = _manifest(tmp_path)[fmt.MANIFEST_KEY][0]["weights"]
    restored = tfjs.load_tfjs(tmp_path)
    for spec, a, b in zip(specs, model.get_weights(), restored.get_weights()):
        q = spec[fmt.QUANTIZATION_KEY]
        assert q[fmt.QUANT_DTYPE_KEY] == dtype
        if dtype == "float16":
            bound = np.abs(a) * 2.0 ** -11 + 1e-7
        else:
            bound = q[fmt.QUANT_SCALE_KEY] / 2 * (1 + 1e-5) + 1e-7
        assert np.all(np.abs(a - b) <= bound), spec["name"]
    reference, got = predict(model, inputs), predict(restored, inputs)
    tolerance = {"uint8": 0.1, "uint16": 1e-3, "float16": 1e-2}[dtype]
    assert np.abs(reference - got).max() < tolerance * max(1.0, np.abs(reference).max())


def test_uint8_shards_are_a_quarter_of_float32(tmp_path):
    model, _ = build("cnn")
    tfjs.save_tfjs(model, tmp_path / "f32")
    tfjs.save_tfjs(model, tmp_path / "u8", quantize="uint8")
    size = lambda d: sum(f.stat().st_size for f in d.glob("*.bin"))
    assert size(tmp_path / "u8") * 4 == size(tmp_path / "f32")


def test_zero_is_exact_and_constant_weights_survive():
    values = np.array([-0.3, 0.0, 0.7, 0.25], np.float32)
    stored, q = quant.quantize(values, "uint8")
    assert quant.dequantize(stored, q)[1] == 0.0
    stored, q = quant.quantize(np.full(5, 0.75, np.float32), "uint16")
    np.testing.assert_array_equal(quant.dequantize(stored, q), np.full(5, 0.75, np.float32))


@pytest.mark.parametrize("shard_size", [1, 7, 64, 100])
def test_small_shards(tmp_path, shard_size):
    model, inputs = build("mlp")
    tfjs.save_tfjs(model, tmp_path, shard_size=shard_size)
    group = _manifest(tmp_path)[fmt.MANIFEST_KEY][0]
    total = sum(np.prod(w["shape"]) * 4 for w in group["weights"])
    count = -(-total // shard_size)
    assert group["paths"] == [f"group1-shard{i}of{count}.bin" for i in range(1, count + 1)]
    sizes = [os.path.getsize(tmp_path / p) for p in group["paths"]]
    assert sizes[:-1] == [shard_size] * (count - 1) and sum(sizes) == total
    np.testing.assert_array_equal(predict(model, inputs), predict(tfjs.load_tfjs(tmp_path), inputs))


def test_reads_keras3_style_topology_and_prefixed_names(tmp_path):
    from webkeras.layers.serialization import jsonable, serialize_layer

    model, inputs = build("mlp")
    tfjs.save_tfjs(model, tmp_path)
    artifact = _manifest(tmp_path)
    # Keras 3 config (batch_shape, DTypePolicy dicts, module keys) and prefixed weight names.
    artifact[fmt.TOPOLOGY_KEY] = {fmt.MODEL_CONFIG_KEY: jsonable(serialize_layer(model))}
    for spec in artifact[fmt.MANIFEST_KEY][0]["weights"]:
        spec["name"] = "sequential/" + spec["name"]
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    assert "batch_shape" in json.dumps(artifact)
    np.testing.assert_array_equal(predict(model, inputs), predict(tfjs.load_tfjs(tmp_path), inputs))


def test_models_sharing_layers_round_trip(tmp_path):
    from webkeras.layers.serialization import jsonable, serialize_layer

    rng = np.random.default_rng(5)
    outputs = {}
    for name, model in build_all(keras).items():
        inputs = [rng.random((3,) + tuple(t.shape[1:]), dtype=np.float32) for t in model.inputs]
        expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        tfjs.save_tfjs(model, tmp_path / name)
        artifact = _manifest(tmp_path / name)
        outputs[name] = artifact[fmt.TOPOLOGY_KEY][fmt.MODEL_CONFIG_KEY]["config"].get(
            "output_layers")
        restored = [tfjs.load_tfjs(tmp_path / name)]
        # tensorflowjs_converter writes Keras 3's own config for a Keras 3 model.
        artifact[fmt.TOPOLOGY_KEY] = {fmt.MODEL_CONFIG_KEY: jsonable(serialize_layer(model))}
        (tmp_path / name / fmt.MODEL_JSON).write_text(json.dumps(artifact))
        restored.append(tfjs.load_tfjs(tmp_path / name))
        for copy in restored:
            got = copy.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
            for a, b in zip(got if isinstance(got, list) else [got],
                            expected if isinstance(expected, list) else [expected], strict=True):
                np.testing.assert_array_equal(a, b, err_msg=name)
    # Calls count within each model; TF.js also counts a nested model's own graph (Functional
    # or Sequential alike) as its node 0.
    assert outputs["decoder"] == [["decode", 0, 0]]
    assert outputs["outer1"] == [["tower", 1, 0]]
    assert outputs["outer3"] == [["seq_block", 1, 0], ["o3_head", 0, 0]]


def test_reads_numbered_weight_names_and_cell_names(tmp_path):
    model, inputs = build("embedding_lstm")
    tfjs.save_tfjs(model, tmp_path)
    artifact = _manifest(tmp_path)
    specs = artifact[fmt.MANIFEST_KEY][0]["weights"]
    lstm = model.layers[1].name
    assert any(s["name"].startswith(f"{lstm}/lstm_cell") for s in specs)
    counters = {}
    for spec in specs:
        layer = spec["name"].split("/")[0]
        spec["name"] = f"{layer}/{counters.setdefault(layer, 0)}"
        counters[layer] += 1
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    np.testing.assert_array_equal(predict(model, inputs), predict(tfjs.load_tfjs(tmp_path), inputs))


def test_weights_only_needs_a_model(tmp_path):
    model, inputs = build("mlp")
    tfjs.save_tfjs(model, tmp_path, weights_only=True)
    assert fmt.TOPOLOGY_KEY not in _manifest(tmp_path)
    with pytest.raises(ValueError, match="modelTopology"):
        tfjs.load_tfjs(tmp_path)
    fresh, _ = mlp()
    tfjs.load_tfjs(tmp_path, model=fresh)
    np.testing.assert_array_equal(predict(model, inputs), predict(fresh, inputs))


# -- bad inputs ----------------------------------------------------------------------------------
def _saved(tmp_path, **kwargs):
    model, _ = build("mlp")
    tfjs.save_tfjs(model, tmp_path, **kwargs)
    return _manifest(tmp_path)


def test_missing_model_json(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.json"):
        tfjs.load_tfjs(tmp_path)


def test_malformed_model_json(tmp_path):
    (tmp_path / fmt.MODEL_JSON).write_text("{not json")
    with pytest.raises(ValueError, match="model.json' is not valid JSON"):
        tfjs.load_tfjs(tmp_path)


def test_huge_declared_weight_in_the_topology(tmp_path):
    artifact = _saved(tmp_path)
    layers = artifact[fmt.TOPOLOGY_KEY][fmt.MODEL_CONFIG_KEY]["config"]["layers"]
    dense = next(layer for layer in layers if layer["class_name"] == "Dense")
    dense["config"]["units"] = 10 ** 9
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    with pytest.raises(ValueError, match=rf"Variable '{dense['config']['name']}/kernel' has "
                                         r"shape \(6, 1000000000\): 6,000,000,000 elements"):
        tfjs.load_tfjs(tmp_path)


def test_missing_manifest_and_bad_fields(tmp_path):
    artifact = _saved(tmp_path)
    del artifact[fmt.MANIFEST_KEY]
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    with pytest.raises(ValueError, match="missing field `weightsManifest`"):
        tfjs.load_tfjs(tmp_path)
    artifact = _saved(tmp_path)
    del artifact[fmt.MANIFEST_KEY][0]["weights"][0]["shape"]
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    with pytest.raises(ValueError, match="model.json.*`shape`"):
        tfjs.load_tfjs(tmp_path)
    artifact = _saved(tmp_path)
    artifact[fmt.FORMAT_KEY] = "graph-model"
    (tmp_path / fmt.MODEL_JSON).write_text(json.dumps(artifact))
    with pytest.raises(ValueError, match="`format` is 'graph-model'"):
        tfjs.load_tfjs(tmp_path)


def test_missing_shard(tmp_path):
    paths = _saved(tmp_path, shard_size=64)[fmt.MANIFEST_KEY][0]["paths"]
    assert paths[1] == f"group1-shard2of{len(paths)}.bin"
    os.remove(tmp_path / paths[1])
    with pytest.raises(FileNotFoundError, match=paths[1]):
        tfjs.load_tfjs(tmp_path)


def test_wrong_shard_size(tmp_path):
    paths = _saved(tmp_path, shard_size=64)[fmt.MANIFEST_KEY][0]["paths"]
    path = tmp_path / paths[1]
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match=f"'{paths[1]}' has the wrong size"):
        tfjs.load_tfjs(tmp_path)


def test_weights_of_another_model(tmp_path):
    model, _ = build("mlp")
    tfjs.save_tfjs(model, tmp_path)
    other = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name=model.layers[0].name),
                              keras.layers.Dense(3, name=model.layers[1].name)])
    with pytest.raises(ValueError, match="/kernel' has shape"):
        tfjs.load_tfjs(tmp_path, model=other)


def test_bad_quantize_and_shard_size(tmp_path):
    model, _ = build("mlp")
    with pytest.raises(ValueError, match="quantize"):
        tfjs.save_tfjs(model, tmp_path, quantize="int4")
    with pytest.raises(ValueError, match="shard_size"):
        tfjs.save_tfjs(model, tmp_path, shard_size=0)


# -- CLI -----------------------------------------------------------------------------------------
def test_cli_convert_both_ways(tmp_path):
    from webkeras.server.cli import main

    model, inputs = build("cnn")
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    (tmp_path / "m.json").write_text(model.to_json())
    reference = predict(model, inputs)
    assert main(["convert", str(tmp_path / "m.keras"), str(tmp_path / "web")]) == 0
    assert main(["convert", str(tmp_path / "m.h5"), str(tmp_path / "web_h5"),
                 "--quantize", "uint16", "--shard-size", "256"]) == 0
    assert len(_manifest(tmp_path / "web_h5")[fmt.MANIFEST_KEY][0]["paths"]) > 1
    assert main(["convert", str(tmp_path / "m.weights.h5"), str(tmp_path / "w")]) == 1
    assert main(["convert", str(tmp_path / "m.weights.h5"), str(tmp_path / "w"),
                 "--config", str(tmp_path / "m.json")]) == 0
    assert main(["convert", str(tmp_path / "web" / "model.json"),
                 str(tmp_path / "back.keras")]) == 0
    assert main(["convert", str(tmp_path / "w"), str(tmp_path / "back.h5")]) == 0
    for name in ("back.keras", "back.h5"):
        restored = keras.saving.load_model(tmp_path / name)
        np.testing.assert_allclose(predict(restored, inputs), reference, atol=1e-6)
    assert main(["convert", str(tmp_path / "m.keras"), str(tmp_path / "wo"),
                 "--weights-only"]) == 0
    assert main(["convert", str(tmp_path / "wo"), str(tmp_path / "wo.weights.h5"),
                 "--config", str(tmp_path / "m.json")]) == 0


def test_cli_convert_prints_what_tfjs_cannot_load(tmp_path, capsys):
    from webkeras.server.cli import main

    model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4, name="gru")])
    model.save(tmp_path / "gru.keras")
    assert main(["convert", str(tmp_path / "gru.keras"), str(tmp_path / "web")]) == 0
    err = capsys.readouterr().err
    assert "webkeras convert: warning: Layer 'gru' has a GRU with reset_after=True" in err, err
    assert "wrote" in err
    model, _ = build("gru")
    model.save(tmp_path / "gru_v2.keras")
    assert main(["convert", str(tmp_path / "gru_v2.keras"), str(tmp_path / "web_v2")]) == 0
    assert "warning" not in capsys.readouterr().err
