"""The Python side of the JS API (web/webkeras.js -> web/worker.js -> here).

The worker fetches a model's files into Pyodide's filesystem, then calls `load`; `predict`
takes typed arrays from the page and hands typed arrays back (one copy each way);
`run_python` runs the page's code in a namespace where the loaded models are `models[id]`.
"""

import json
import linecache
import sys
import traceback

import js
import numpy as np
import webkeras as keras
from pyodide.code import eval_code_async
from pyodide.ffi import run_sync
from webkeras.saving import tfjs

# Batches larger than this go through `model.predict` in chunks of this size.
MAX_BATCH = 256
TYPED_ARRAY_DTYPES = {
    "Float32Array": "float32",
    "Float64Array": "float64",
    "Int32Array": "int32",
    "Uint8Array": "uint8",
    "Uint8ClampedArray": "uint8",
}

RUN_FILENAME = "<runPython>"

_models = {}  # id (int) -> model; runPython's code sees it as `models`
# runPython's globals, kept between calls like a notebook's.
_namespace = {"__name__": "__main__", "keras": keras, "np": np, "models": _models}


def _spec(tensor):
    return {"name": getattr(tensor, "name", None), "shape": list(tensor.shape),
            "dtype": str(getattr(tensor, "dtype", "float32"))}


def _specs(model, kind):
    tensors = getattr(model, kind, None) or []
    if tensors:
        return [_spec(t) for t in tensors]
    shape = getattr(model, f"{kind[:-1]}_shape", None)  # input_shape / output_shape
    shapes = shape if isinstance(shape, list) else [shape]
    return [{"name": None, "shape": list(s), "dtype": "float32"} for s in shapes if s]


def load(model_id, path, backend):
    """Loads a TF.js model.json, `.keras` or `.h5` file on `backend` ("webgpu" or "numpy");
    returns JSON naming its inputs and outputs."""
    keras.backend.set_backend(str(backend))
    if path.endswith(".json"):
        model = tfjs.load_tfjs(path)
    else:
        model = keras.saving.load_model(path, compile=False)
    _models[int(model_id)] = model
    return json.dumps({"name": model.name, "inputs": _specs(model, "inputs"),
                       "outputs": _specs(model, "outputs"),
                       "backend": keras.backend.backend(), "device": keras.backend.device()})


def _model(model_id):
    model = _models.get(int(model_id))
    if model is None:
        raise ValueError(f"No loaded model with id {model_id!r} (disposed, or its load failed).")
    return model


def _to_numpy(index, item):
    data, shape = item.data, [int(d) for d in item.shape]
    kind = data.constructor.name
    dtype = TYPED_ARRAY_DTYPES.get(kind)
    if dtype is None:
        raise TypeError(f"Input {index}: expected a Float32Array (or "
                        f"{', '.join(TYPED_ARRAY_DTYPES)}), received a {kind}.")
    array = np.frombuffer(data.to_bytes(), dtype=dtype)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"Input {index}: {array.size} values do not fill shape {shape} "
                         f"({int(np.prod(shape))} values).")
    return array.reshape(shape)


def _check_shapes(model, arrays):
    specs = _specs(model, "inputs")
    if len(specs) != len(arrays):
        raise ValueError(f"Model '{model.name}' takes {len(specs)} input(s), received "
                         f"{len(arrays)}.")
    for index, (spec, array) in enumerate(zip(specs, arrays)):
        expected = spec["shape"]
        if len(expected) != array.ndim or any(
                e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
            shown = ["batch" if d is None else d for d in expected]
            raise ValueError(f"Input {index} of model '{model.name}': expected shape {shown}, "
                             f"received {list(array.shape)}.")


def _to_js(array):
    array = np.ascontiguousarray(array, dtype=np.float32)
    typed = js.Float32Array.new(array.size)
    typed.assign(array.reshape(-1))
    return {"data": typed, "shape": list(array.shape)}


def predict(model_id, inputs):
    """`inputs`: JS [{data: TypedArray, shape}] -> [{data: Float32Array, shape}]."""
    model = _model(model_id)
    arrays = [_to_numpy(i, item) for i, item in enumerate(inputs)]
    _check_shapes(model, arrays)
    x = arrays[0] if len(arrays) == 1 else arrays
    if len(arrays[0]) <= MAX_BATCH:
        outputs = model.predict_on_batch(x)
    else:
        outputs = model.predict(x, batch_size=MAX_BATCH, verbose=0)
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [_to_js(np.asarray(y)) for y in outputs]


def dispose(model_id):
    _models.pop(int(model_id), None)


# -- runPython ------------------------------------------------------------------------------
def _json_value(value):
    """json.dumps's fallback: NumPy arrays and scalars (and tensors) as lists and numbers."""
    if hasattr(value, "numpy") and not isinstance(value, (np.ndarray, np.generic)):
        value = value.numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _traceback_from(exc, filename):
    """The traceback from the first frame of the page's code on (none for a SyntaxError)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


def run_python(code):
    """Runs `code` (top-level `await` allowed) with `models`, `keras` and `np` in scope.
    Returns JSON: {"value": the last expression (JSON when it is JSON-able, else its repr;
    null when there is none)} or {"error": the traceback text}."""
    linecache.cache[RUN_FILENAME] = (len(code), None, code.splitlines(keepends=True),
                                     RUN_FILENAME)
    try:
        value = run_sync(eval_code_async(code, _namespace, filename=RUN_FILENAME))
    except BaseException as exc:  # noqa: B036 - KeyboardInterrupt goes back to the page too
        return json.dumps({"error": _traceback_from(exc, RUN_FILENAME),
                           "type": type(exc).__name__})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        return json.dumps({"value": value}, default=_json_value, allow_nan=False)
    except (TypeError, ValueError):  # not JSON (or NaN): what the REPL would show
        return json.dumps({"value": repr(value)})
