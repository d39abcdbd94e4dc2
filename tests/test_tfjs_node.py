"""Real TF.js 4.22 (node, cpu backend) loads what webkeras writes and predicts the same.

`tests/js/load_predict.mjs` reads model.json and the shards itself and hands them to
`tf.loadLayersModel(tf.io.fromMemory(...))` (node cannot fetch file:// URLs). Quantized
models are compared with webkeras running the same dequantized weights (≤ 1e-5), and with
the float32 original within a tolerance set by the quantization step. What `save_tfjs`
warns TF.js cannot load (a GRU with reset_after=True, repeated weight names), TF.js refuses.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import webkeras as keras
from test_tfjs_format import build, clashing_names, predict
from webkeras.saving import load_model, tfjs

REPO_ROOT = Path(__file__).resolve().parent.parent
HELPER = REPO_ROOT / "tests" / "js" / "load_predict.mjs"
REFERENCE = REPO_ROOT / "tests" / "reference" / "saving"
TFJS_DIR = REPO_ROOT / "node_modules" / "@tensorflow" / "tfjs"

pytestmark = [
    pytest.mark.skipif(not TFJS_DIR.is_dir(),
                       reason="node_modules/@tensorflow/tfjs is absent: run `npm install` "
                              "(devDependency @tensorflow/tfjs@4.22.0)"),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH"),
]

# Output tolerance against the float32 original, per quantization.
ORIGINAL_TOLERANCE = {None: 1e-5, "uint16": 1e-3, "float16": 1e-2, "uint8": 0.1}
MAX_DIFF = {}


def run_tfjs(directory, inputs):
    spec = [{"shape": list(x.shape), "dtype": str(x.dtype), "data": x.ravel().tolist()}
            for x in inputs]
    path = Path(directory) / "inputs.json"
    path.write_text(json.dumps(spec))
    return subprocess.run(["node", str(HELPER), str(directory), str(path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def tfjs_outputs(directory, inputs):
    result = run_tfjs(directory, inputs)
    assert result.returncode == 0, result.stderr[-3000:]
    return [np.asarray(out["data"], np.float32).reshape(out["shape"])
            for out in json.loads(result.stdout)["outputs"]]


def tfjs_predict(directory, inputs):
    return tfjs_outputs(directory, inputs)[0]


@pytest.mark.parametrize("quantize", [None, "uint8", "uint16", "float16"])
@pytest.mark.parametrize("name", ["mlp", "cnn", "embedding_lstm", "two_input", "nested", "gru"])
def test_tfjs_loads_and_predicts(tmp_path, name, quantize):
    model, inputs = build(name)
    tfjs.save_tfjs(model, tmp_path, quantize=quantize)
    got = tfjs_predict(tmp_path, inputs)
    same_weights = predict(tfjs.load_tfjs(tmp_path), inputs)
    original = predict(model, inputs)
    assert got.shape == original.shape
    diff = float(np.abs(got - same_weights).max())
    MAX_DIFF[(name, quantize)] = diff
    assert diff <= 1e-5, diff
    scale = max(1.0, float(np.abs(original).max()))
    assert np.abs(got - original).max() <= ORIGINAL_TOLERANCE[quantize] * scale


@pytest.mark.parametrize("quantize", [None, "uint8"])
@pytest.mark.parametrize("shard_size", [7, 64, 150])
def test_tfjs_loads_sharded(tmp_path, shard_size, quantize):
    model, inputs = build("cnn")
    tfjs.save_tfjs(model, tmp_path, quantize=quantize, shard_size=shard_size)
    assert len(list(tmp_path.glob("group1-shard*.bin"))) > 1
    np.testing.assert_allclose(tfjs_predict(tmp_path, inputs),
                               predict(tfjs.load_tfjs(tmp_path), inputs), atol=1e-5)


def test_tfjs_predicts_keras3_functional_reference(tmp_path):
    # Real Keras 3's file: two inputs, a shared layer, a nested model, two outputs.
    with np.load(REFERENCE / "functional.npz") as arrays:
        inputs, expected = [arrays["x0"], arrays["x1"]], [arrays["y0"], arrays["y1"]]
    tfjs.save_tfjs(load_model(REFERENCE / "functional.keras"), tmp_path)
    got = tfjs_outputs(tmp_path, inputs)
    assert [y.shape for y in got] == [y.shape for y in expected]
    for y, reference in zip(got, expected):
        np.testing.assert_allclose(y, reference, atol=1e-5)


def reset_after_gru():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4, name="gru")])
    return model, [np.random.default_rng(9).random((2, 5, 3), dtype=np.float32)]


@pytest.mark.parametrize("build_model, warning, tfjs_error", [
    (reset_after_gru, "reset_after=True", "GRUCell does not support reset_after"),
    (clashing_names, "Duplicate weight name", "Duplicate weight name: dense/kernel"),
], ids=["gru_reset_after", "clashing_names"])
def test_tfjs_refuses_what_save_tfjs_warns_about(tmp_path, build_model, warning, tfjs_error):
    model, inputs = build_model()
    with pytest.warns(UserWarning, match=warning):
        tfjs.save_tfjs(model, tmp_path)
    result = run_tfjs(tmp_path, inputs)
    assert result.returncode != 0 and tfjs_error in result.stderr, result.stderr[-3000:]
    np.testing.assert_array_equal(predict(tfjs.load_tfjs(tmp_path), inputs),
                                  predict(model, inputs))


def test_tfjs_computes_hard_sigmoid_as_save_tfjs_warns(tmp_path):
    # The warning's claim, checked: TF.js clips 0.2 z + 0.5, Keras 3 computes relu6(z + 3) / 6.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="hard_sigmoid")])
    kernel = np.array([[1.0, -2.0, 0.5, 3.0], [0.5, 1.0, -1.0, 2.0], [2.0, 0.0, 1.5, -1.0]],
                      np.float32)
    model.set_weights([kernel, np.zeros(4, np.float32)])
    x = np.array([[0.3, -0.7, 0.9], [1.2, 0.4, -0.5]], np.float32)
    z = x @ kernel
    with pytest.warns(UserWarning, match="hard_sigmoid"):
        tfjs.save_tfjs(model, tmp_path)
    np.testing.assert_allclose(tfjs_predict(tmp_path, [x]), np.clip(0.2 * z + 0.5, 0, 1),
                               atol=1e-6)
    np.testing.assert_allclose(predict(model, [x]), np.clip(z + 3, 0, 6) / 6, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn_lstm", "nested"])
def test_webkeras_loads_what_tfjs_saves(tmp_path, name):
    result = subprocess.run(["node", str(REPO_ROOT / "tests" / "js" / "save_model.mjs"),
                             str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    io = json.loads((tmp_path / name / "io.json").read_text())
    x = np.asarray(io["input"]["data"], np.float32).reshape(io["input"]["shape"])
    expected = np.asarray(io["output"]["data"], np.float32).reshape(io["output"]["shape"])
    model = tfjs.load_tfjs(tmp_path / name)
    np.testing.assert_allclose(predict(model, [x]), expected, atol=1e-5)
