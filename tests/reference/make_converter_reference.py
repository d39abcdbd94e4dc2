"""Writes fixtures from tf.keras 2 and the real `tensorflowjs_converter` (run once, commit).

    make tfjs-fixtures    # = TF_USE_LEGACY_KERAS=1 .venv-tfjs/bin/python <this file>

The six architectures of make_saving_reference.py, built with tf.keras 2 (the `tf_keras`
package tensorflowjs 4.22 itself uses), given deterministic weights, compiled and trained
one step (so files carry `training_config` and optimizer weights). Writes:

- `tfkeras2/<name>.h5` (`model.save(..., save_format="h5")`), `tfkeras2/<name>_weights.h5`
  (`save_weights`), `tfkeras2/<name>.npz`: inputs `x0`, `x1`... and predictions `y0`...
- `tfjs_converter/<name>/<variant>/`: the converter's output for `<name>.h5`, variants
  float32, uint8, uint16, float16 (`--quantize_* '*'`) and sharded (`--weight_shard_size_bytes`
  giving several shards); `tfjs_converter/<name>/expected.npz` holds `<variant>_y<i>`,
  tf.keras 2's predictions with the weights read back from that variant by tensorflowjs's
  own loader (dequantized, as TF.js sees them).
- `tfjs_converter/keras3_<name>/float32/`: Keras 3 `.keras` files from saving/ converted
  with `--input_format=keras_keras` (their inputs and outputs are saving/<name>.npz).
- `tfjs_converter/VERSIONS.txt`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py
import numpy as np
import tensorflow as tf
import tensorflowjs
import tf_keras as keras
from architectures import MODELS
from tensorflowjs.converters import keras_tfjs_loader

HERE = os.path.dirname(os.path.abspath(__file__))
H5_OUT = os.path.join(HERE, "tfkeras2")
TFJS_OUT = os.path.join(HERE, "tfjs_converter")
KERAS3_REF = os.path.join(HERE, "saving")
CONVERTER = os.path.join(os.path.dirname(sys.executable), "tensorflowjs_converter")
QUANTIZED = ("uint8", "uint16", "float16")
VARIANTS = ("float32",) + QUANTIZED + ("sharded",)
KERAS3_CONVERTED = ("cnn", "functional")



def _set_weights(model, rng):
    """Weights drawn from `rng` (not TF's initializers), variances kept positive."""
    values = []
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.name:
            values.append(rng.uniform(0.5, 1.5, shape))
        else:
            values.append(0.4 * rng.standard_normal(shape))
    model.set_weights([v.astype("float32") for v in values])


def _data(model, rng):
    xs = []
    for inp in model.inputs:
        shape = (3,) + tuple(inp.shape[1:])
        if inp.dtype.is_integer:
            xs.append(rng.integers(0, 20, size=shape).astype("int32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    ys = [rng.standard_normal((3,) + tuple(out.shape[1:])).astype("float32")
          for out in model.outputs]
    return xs, ys


def _one(values):
    return values if len(values) > 1 else values[0]


def _predict(model, xs):
    preds = model.predict(_one(xs), verbose=0)
    return [np.asarray(p) for p in (preds if isinstance(preds, list) else [preds])]


def _float_bytes(h5_path):
    with h5py.File(h5_path, "r") as f:
        sizes = []
        f["model_weights"].visititems(
            lambda _, item: sizes.append(item.nbytes) if isinstance(item, h5py.Dataset) else None)
    return sum(sizes)


def _convert(src, out_dir, *flags, input_format="keras"):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    subprocess.run([CONVERTER, f"--input_format={input_format}", *flags, src, out_dir],
                   check=True, capture_output=True, text=True)


def _variant_flags(variant, h5_path):
    if variant in QUANTIZED:
        return [f"--quantize_{variant}", "*"]
    if variant == "sharded":
        # About a third of the weights' bytes per shard: several shards for every model.
        return ["--weight_shard_size_bytes", str(max(64, _float_bytes(h5_path) // 3 // 4 * 4))]
    return []


def write_tfkeras2(name, make, rng):
    model = make(keras)
    _set_weights(model, rng)
    xs, ys = _data(model, rng)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(_one(xs), _one(ys), epochs=1, batch_size=3, verbose=0)
    h5_path = os.path.join(H5_OUT, f"{name}.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(h5_path, save_format="h5")
    model.save_weights(os.path.join(H5_OUT, f"{name}_weights.h5"))
    arrays = {f"x{i}": x for i, x in enumerate(xs)}
    arrays.update({f"y{i}": p for i, p in enumerate(_predict(model, xs))})
    np.savez(os.path.join(H5_OUT, f"{name}.npz"), **arrays)
    return h5_path, xs


def write_converted(name, h5_path, xs):
    expected = {}
    for variant in VARIANTS:
        out_dir = os.path.join(TFJS_OUT, name, variant)
        _convert(h5_path, out_dir, *_variant_flags(variant, h5_path))
        # tensorflowjs's own reader: the weights exactly as TF.js decodes them.
        model = keras_tfjs_loader.load_keras_model(os.path.join(out_dir, "model.json"))
        expected.update({f"{variant}_y{i}": p for i, p in enumerate(_predict(model, xs))})
        keras.backend.clear_session()
    np.savez(os.path.join(TFJS_OUT, name, "expected.npz"), **expected)


def write_keras3_converted(name):
    # The converter unzips the `.keras` file beside it, so it gets a scratch copy.
    with tempfile.TemporaryDirectory() as scratch:
        src = shutil.copy(os.path.join(KERAS3_REF, f"{name}.keras"), scratch)
        _convert(src, os.path.join(TFJS_OUT, f"keras3_{name}", "float32"),
                 "--output_format=tfjs_layers_model", input_format="keras_keras")


def versions():
    # Keras 3 reads the `.keras` input of `--input_format=keras_keras`.
    import keras as keras3

    return {"tensorflowjs": tensorflowjs.__version__, "tensorflow": tf.__version__,
            "tf_keras": keras.__version__, "keras": keras3.__version__,
            "h5py": h5py.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0]}


def main():
    os.makedirs(H5_OUT, exist_ok=True)
    os.makedirs(TFJS_OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(0)
    for name, make in MODELS.items():
        h5_path, xs = write_tfkeras2(name, make, rng)
        write_converted(name, h5_path, xs)
        keras.backend.clear_session()
        print(name, "ok", file=sys.stderr)
    for name in KERAS3_CONVERTED:
        write_keras3_converted(name)
        print(f"keras3_{name}", "ok", file=sys.stderr)
    found = versions()
    with open(os.path.join(TFJS_OUT, "VERSIONS.txt"), "w") as f:
        f.writelines(f"{k}=={v}\n" for k, v in found.items())
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
