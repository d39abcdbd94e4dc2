"""The real `tensorflowjs_converter` 4.22's output loads in webkeras and predicts as the model did.

Fixtures (tests/reference/tfjs_converter/, written by make_converter_reference.py, `make
tfjs-fixtures`): six tf.keras 2 models converted as float32, uint8, uint16, float16 and
sharded, plus two Keras 3 `.keras` files converted with `--input_format=keras_keras`.
`<name>/expected.npz` holds tf.keras 2's predictions with each variant's weights as the
converter's own reader (`tensorflowjs.converters.keras_tfjs_loader`) decodes them.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import webkeras as keras
from interop import max_error, predict, read_reference
from webkeras.saving.tfjs import format as fmt
from webkeras.saving.tfjs import load_tfjs, weights
from webkeras.server.cli import main

REFERENCE = Path(__file__).resolve().parent / "reference"
CONVERTED = REFERENCE / "tfjs_converter"
NAMES = ("mlp", "cnn", "embed_lstm", "gru_rnn", "functional", "deconv")
VARIANTS = ("float32", "uint8", "uint16", "float16", "sharded")
QUANTIZED = ("uint8", "uint16", "float16")
KERAS3_NAMES = ("cnn", "functional")
TOL = 1e-5
# float16 keeps 11 significant bits: rounding moves a weight by at most |w| * 2**-11, or
# half the smallest subnormal step near zero.
FLOAT16_REL, FLOAT16_ABS = 2.0 ** -11, 2.0 ** -25
# Output error against the float model, in units of the largest quantization step of any
# weight: measured up to 2.7 on these models (BatchNormalization amplifies), so 8 leaves room
# and still catches a misplaced weight.
STEP_GAIN = 8.0


def reference(name):
    return read_reference(REFERENCE / "tfkeras2" / f"{name}.npz")


def manifest(directory):
    """({name: manifest entry}, {name: dequantized array}) of a converted model."""
    with open(directory / fmt.MODEL_JSON) as f:
        groups = json.load(f)[fmt.MANIFEST_KEY]
    specs = {spec["name"]: spec for group in groups for spec in group["weights"]}
    return specs, weights.read_manifest(str(directory), groups, str(directory))


def largest_step(name, variant):
    """The largest quantization step among the weights that are not constant."""
    specs, _ = manifest(CONVERTED / name / variant)
    _, originals = manifest(CONVERTED / name / "float32")
    steps = []
    for weight, original in originals.items():
        if np.ptp(original) == 0:
            continue
        quantization = specs[weight][fmt.QUANTIZATION_KEY]
        if quantization[fmt.QUANT_DTYPE_KEY] == "float16":
            steps.append(float(np.abs(original).max()) * FLOAT16_REL)
        else:
            steps.append(float(quantization[fmt.QUANT_SCALE_KEY]))
    return max(steps)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_converter_output_predicts_like_tf_keras(name, variant):
    directory = CONVERTED / name / variant
    if variant == "sharded":
        assert len(list(directory.glob("group1-shard*.bin"))) >= 2
    xs, ys = reference(name)
    got = predict(load_tfjs(directory), xs)
    expected = np.load(CONVERTED / name / "expected.npz")
    same_weights = [expected[f"{variant}_y{i}"] for i in range(len(ys))]
    error = max_error(got, same_weights)
    assert error <= TOL, error
    tolerance = STEP_GAIN * largest_step(name, variant) if variant in QUANTIZED else TOL
    assert max_error(got, ys) <= tolerance


@pytest.mark.parametrize("variant", QUANTIZED)
@pytest.mark.parametrize("name", NAMES)
def test_dequantized_weights_are_within_one_step(name, variant):
    specs, dequantized = manifest(CONVERTED / name / variant)
    _, originals = manifest(CONVERTED / name / "float32")
    assert dequantized.keys() == originals.keys()
    for weight, original in originals.items():
        quantization = specs[weight][fmt.QUANTIZATION_KEY]
        assert quantization[fmt.QUANT_DTYPE_KEY] == variant
        if variant == "float16":
            bound = np.abs(original) * FLOAT16_REL + FLOAT16_ABS
        else:
            # Rounding to the nearest code; float32 arithmetic in `q * scale + min` adds ulps.
            bound = 0.5 * quantization[fmt.QUANT_SCALE_KEY] + \
                4 * np.finfo(np.float32).eps * np.maximum(1.0, np.abs(original))
        assert np.all(np.abs(dequantized[weight] - original) <= bound), weight


@pytest.mark.parametrize("variant", ["float32", "uint8"])
@pytest.mark.parametrize("name", NAMES)
def test_cli_converts_converter_output_to_keras(tmp_path, name, variant):
    directory = CONVERTED / name / variant
    xs, _ = reference(name)
    out = tmp_path / f"{name}.keras"
    assert main(["convert", str(directory), str(out)]) == 0
    restored = predict(keras.saving.load_model(out), xs)
    assert max_error(restored, predict(load_tfjs(directory), xs)) == 0.0
    expected = np.load(CONVERTED / name / "expected.npz")
    assert max_error(restored, [expected[f"{variant}_y{i}"] for i in range(len(restored))]) \
        <= TOL


@pytest.mark.parametrize("name", KERAS3_NAMES)
def test_keras3_files_through_the_converter(tmp_path, name):
    directory = CONVERTED / f"keras3_{name}" / "float32"
    specs, _ = manifest(directory)
    # The converter names `.keras` weights by their `.weights.h5` path and adds the
    # optimizer's variables, which a layers model does not take.
    assert any(spec.startswith("layers/") for spec in specs)
    assert any(spec.startswith("optimizer/vars/") for spec in specs)
    data = np.load(REFERENCE / "saving" / f"{name}.npz")
    xs = [data[k] for k in sorted(data) if k.startswith("x")]
    ys = [data[k] for k in sorted(data) if k.startswith("y")]
    error = max_error(predict(load_tfjs(directory), xs), ys)
    assert error <= TOL, error
    out = tmp_path / f"{name}.keras"
    assert main(["convert", str(directory), str(out)]) == 0
    assert max_error(predict(keras.saving.load_model(out), xs), ys) <= TOL


def test_truncated_converter_shard_is_named(tmp_path):
    directory = tmp_path / "sharded"
    shutil.copytree(CONVERTED / "embed_lstm" / "sharded", directory)
    shard = sorted(directory.glob("group1-shard*.bin"))[1]
    shard.write_bytes(shard.read_bytes()[:-8])
    with pytest.raises(ValueError, match=rf"'{shard.name}' has the wrong size \(truncated"):
        load_tfjs(directory)

