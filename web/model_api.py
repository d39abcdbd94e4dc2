"""The Python side of the JS API (web/webkeras.js -> web/worker.js -> here).

The worker fetches a model's files into Pyodide's filesystem, then calls `load`; `predict`
takes the page's typed arrays and returns new ones (one copy each way), and runs a model that
was not compiled through a traced plan;
`run_python` runs the page's code in a namespace where the loaded models are `models[id]`.
`export_plan` hands the page a model's predict plan to run on its own thread
(web/cpu_replay.js), with a weights version that every call able to change weights bumps.
The training calls (compile, fit, evaluate, save, weights, summary, set_trainable) answer
{"value": ...} or {"error", "type", "traceback"}: the page rejects with Keras's own message.
"""

import functools
import io
import json
import linecache
import os
import sys
import tempfile
import traceback
import zipfile

import js
import numpy as np
import webkeras as keras
import webkeras_worker
from pyodide.code import eval_code_async
from pyodide.ffi import run_sync, to_js
from webkeras.callbacks import Callback
from webkeras.saving import tfjs
from webkeras.backend.numpy import wasm_kernels
from webkeras.trainers.plan_export import NotExportable, export_predict_plan
from webkeras.trainers.step_plan import MAX_RECORDINGS, StepPlans
from webkeras.utils import tree

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
# id -> the predict plans of a model loaded without compile (a compiled one has its own).
_predict_plans = {}
# Bumped by each call that may change a model's weights (fit, set_weights, any runPython):
# the page's copy of a plan (export_plan) holds while the version it was exported at is current.
_weights_version = 0
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


def _layers(model):
    return [{"name": layer.name, "className": type(layer).__name__,
             "trainable": bool(layer.trainable)} for layer in getattr(model, "layers", [])]


def load(model_id, path, backend):
    """Loads a TF.js model.json, `.keras` or `.h5` file on `backend` ("webgpu" or "numpy");
    returns JSON naming its inputs and outputs."""
    # One backend object for every model: a new one (set_backend) would leave the models loaded
    # before on the old one, their weights converted at each call.
    if keras.backend.backend() != str(backend):
        keras.backend.set_backend(str(backend))
    if path.endswith(".json"):
        model = tfjs.load_tfjs(path)
    else:
        model = keras.saving.load_model(path, compile=False)
    _models[int(model_id)] = model
    if model.jit_compile:  # "auto": on for the NumPy backend
        _predict_plans[int(model_id)] = StepPlans(model, strict=False)
    return json.dumps({"name": model.name, "inputs": _specs(model, "inputs"),
                       "outputs": _specs(model, "outputs"), "layers": _layers(model),
                       "backend": keras.backend.backend(), "device": keras.backend.device()})


def _model(model_id):
    model = _models.get(int(model_id))
    if model is None:
        raise ValueError(f"No loaded model with id {model_id!r} (disposed, or its load failed).")
    return model


def _to_numpy(index, item):
    data = item.data
    return _from_typed_array(index, data, data.constructor.name, [int(d) for d in item.shape])


def _from_typed_array(index, data, kind, shape):
    """A JS typed array (`kind`: its class name) as a read-only NumPy array of `shape`."""
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


# The typed array each NumPy dtype goes back as (others: Float32Array); keyed by np.dtype,
# whose `.name` costs more than the rest of a batch-1 output's conversion.
JS_ARRAYS = {np.dtype(name): kinds for name, kinds in {
    "float64": (js.Float64Array, np.float64), "int32": (js.Int32Array, np.int32),
    "int64": (js.Int32Array, np.int32), "uint8": (js.Uint8Array, np.uint8),
    "bool": (js.Uint8Array, np.uint8)}.items()}


def _host_array(array):
    """A C-contiguous array of a dtype a typed array holds (JS_ARRAYS), and that typed array."""
    array = np.asarray(array)
    kind, dtype = JS_ARRAYS.get(array.dtype, (js.Float32Array, np.float32))
    return np.ascontiguousarray(array, dtype=dtype), kind


def _to_js(array):
    array, kind = _host_array(array)
    typed = kind.new(array.size)
    typed.assign(array.reshape(-1))
    return {"data": typed, "shape": list(array.shape)}


def predict(model_id, spec, *datas):
    """`spec`: JSON [{kind: a typed array's class name, shape}], one per typed array in
    `datas` -> a JS array [{data: a typed array, shape}] (built by to_js: no proxies)."""
    model = _model(model_id)
    arrays = [_from_typed_array(i, data, item["kind"], [int(d) for d in item["shape"]])
              for i, (item, data) in enumerate(zip(json.loads(spec), datas))]
    _check_shapes(model, arrays)
    x = arrays[0] if len(arrays) == 1 else arrays
    if len(arrays[0]) > MAX_BATCH:
        outputs = model.predict(x, batch_size=MAX_BATCH, verbose=0)
    elif model.compiled or int(model_id) not in _predict_plans:
        outputs = model.predict_on_batch(x)
    else:
        # A flat list of backend calls once two predicts of a shape recorded the same calls.
        data = (tree.map_structure(keras.ops.convert_to_tensor, x),)
        step = _predict_plans[int(model_id)].run("predict", data)
        outputs = tree.map_structure(lambda y: y.numpy(), step)
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    arrays = [_host_array(y)[0] for y in outputs]
    return to_js([{"data": to_js(y.reshape(-1)), "shape": list(y.shape)} for y in arrays],
                 dict_converter=js.Object.fromEntries)


def dispose(model_id):
    _models.pop(int(model_id), None)
    _predict_plans.pop(int(model_id), None)


def _weights_changed():
    global _weights_version
    _weights_version += 1


# The batch the page's plan is recorded at: 2, so that a reshape keeping the batch axis is told
# from one that merges it (at batch 1 both read (1, ...)).
EXPORT_BATCH = 2


def _page_program(model_id):
    """(program, weights) of export_predict_plan for the model, or raises NotExportable."""
    model = _model(model_id)
    kernels = wasm_kernels.kernels()
    if keras.backend.backend() != "numpy" or kernels is None:
        raise NotExportable(f"the {keras.backend.backend()} backend runs without the WASM "
                            "kernels here")
    specs = _specs(model, "inputs")
    sample = specs[0]["shape"][1:] if len(specs) == 1 else [None]
    if None in sample or specs[0]["dtype"] != "float32":
        raise NotExportable("the model does not take one float32 input of a known shape")
    plans = _predict_plans.get(int(model_id))
    if plans is None or plans.model is not model:
        plans = _predict_plans[int(model_id)] = StepPlans(model, strict=False)
    data = (keras.ops.convert_to_tensor(np.zeros([EXPORT_BATCH] + sample, "float32")),)
    # Recorded like the worker's own predicts: a plan once two recordings agree.
    for _ in range(MAX_RECORDINGS):
        if plans.plan("predict", data) is not None:
            break
        plans.run("predict", data)
    plan = plans.plan("predict", data)
    if plan is None:
        raise NotExportable("its predict step is not traced (it runs eagerly)")
    return export_predict_plan(plan, [EXPORT_BATCH] + sample, kernels.lib)


def _bytes_to_js(data):
    typed = js.Uint8Array.new(len(data))
    typed.assign(data)
    return typed


def _file_bytes(path):
    with open(path, "rb") as file:
        return _bytes_to_js(file.read())


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
    _weights_changed()  # the code may assign, load or train any model's weights
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



# -- training -------------------------------------------------------------------------------
def _answer(fn):
    """{"value": fn(...)}, or the exception as {"error", "type", "traceback"}."""

    @functools.wraps(fn)
    def call(*args):
        try:
            return {"value": fn(*args)}
        except Exception as exc:
            return {"error": str(exc) or type(exc).__name__, "type": type(exc).__name__,
                    "traceback": traceback.format_exc()}

    return call


def _data(model, tensors, check_inputs):
    """webkeras.js's {arrays: [{data, shape}], names, single} as Keras's x / y: one array, a
    list, or a dict keyed by input / output name."""
    arrays = [_to_numpy(i, item) for i, item in enumerate(tensors.arrays)]
    if tensors.names is not None:
        return dict(zip(tensors.names, arrays))
    if check_inputs:
        _check_shapes(model, arrays)
    return arrays[0] if tensors.single else arrays


def _optimizer(spec):
    """A name ("adam") or {className, config} (Keras's serialized form)."""
    if isinstance(spec, dict) and "className" in spec:
        return keras.optimizers.get({"class_name": spec["className"],
                                     "config": spec.get("config", {})})
    return keras.optimizers.get(spec)


@_answer
def compile_model(model_id, options):
    """options: JSON {optimizer, loss, metrics, ...} (Model.compile's keyword arguments)."""
    model = _model(model_id)
    kwargs = json.loads(options)
    if "optimizer" in kwargs:
        kwargs["optimizer"] = _optimizer(kwargs["optimizer"])
    model.compile(**kwargs)


def _logs(logs):
    return {key: float(value) for key, value in (logs or {}).items()}


class PageProgress(Callback):
    """Reports each batch ("train-batch", when the page listens) and epoch ("train-epoch")."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.batches:
            webkeras_worker.report("train-batch", json.dumps(
                {"epoch": self.epoch, "batch": batch, "logs": _logs(logs)}))

    def on_epoch_end(self, epoch, logs=None):
        webkeras_worker.report("train-epoch", json.dumps({"epoch": epoch, "logs": _logs(logs)}))


@_answer
def fit(model_id, x, y, options, report_batches):
    """options: JSON of Model.fit's keyword arguments (epochs, batch_size, ...)."""
    model = _model(model_id)
    _weights_changed()
    history = model.fit(_data(model, x, True), _data(model, y, False), verbose=0,
                        callbacks=[PageProgress(bool(report_batches))], **json.loads(options))
    return json.dumps({"history": {key: [float(v) for v in values]
                                   for key, values in history.history.items()},
                       "epoch": list(history.epoch), "params": history.params})


@_answer
def evaluate(model_id, x, y, options):
    """options: JSON {batch_size, return_dict}; the result as Keras returns it."""
    model = _model(model_id)
    result = model.evaluate(_data(model, x, True), _data(model, y, False), verbose=0,
                            **json.loads(options))
    return json.dumps(result, default=_json_value)


SAVE_FORMATS = (".keras", ".h5")


def _zip_folder(folder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(os.listdir(folder)):
            archive.write(os.path.join(folder, name), name)
    return buffer.getvalue()


@_answer
def save(model_id, target):
    """The model's file as a Uint8Array: `target` "name.keras", "name.h5" or "tfjs" (a zip of
    model.json and its shards)."""
    model = _model(model_id)
    with tempfile.TemporaryDirectory() as folder:
        if target == "tfjs":
            tfjs.save_tfjs(model, os.path.join(folder, "tfjs"))
            return _bytes_to_js(_zip_folder(os.path.join(folder, "tfjs")))
        path = os.path.join(folder, "model" + os.path.splitext(target)[1])
        model.save(path)
        return _file_bytes(path)


@_answer
def get_weights(model_id):
    return [_to_js(w) for w in _model(model_id).get_weights()]


@_answer
def set_weights(model_id, weights):
    _weights_changed()
    _model(model_id).set_weights([_to_numpy(i, w) for i, w in enumerate(weights)])


@_answer
def export_plan(model_id, known_version):
    """The model's predict as a program for the page (web/cpu_replay.js): {"version"} alone
    when the page's copy of `known_version` is current, {"version", "reason"} when the model
    cannot run there, else {"version", "program": JSON, "weights": [{data, shape}], "module":
    the kernels' bytes, "sha256": recorded when they were built}."""
    if known_version is not None and int(known_version) == _weights_version:
        return {"version": _weights_version}
    try:
        program, weights = _page_program(model_id)
    except NotExportable as error:
        return {"version": _weights_version, "reason": str(error)}
    program["max_batch"] = MAX_BATCH  # larger batches: the worker's chunked model.predict
    path = wasm_kernels.kernels().path
    with open(path + ".sha256", encoding="ascii") as file:
        sha256 = file.read().split()[0]
    return {"version": _weights_version, "program": json.dumps(program),
            "weights": [_to_js(w) for w in weights], "module": _file_bytes(path),
            "sha256": sha256}


@_answer
def summary(model_id):
    parts = []
    _model(model_id).summary(print_fn=lambda text, *_, **__: parts.append(text))
    return "\n".join(part.rstrip("\n") for part in parts)


@_answer
def set_trainable(model_id, layer, trainable):
    """Sets a layer's (by name, or index in model.layers) `trainable`; returns the layers."""
    model = _model(model_id)
    if isinstance(layer, (int, float)):
        target = model.get_layer(index=int(layer))
    else:
        target = model.get_layer(name=str(layer))
    target.trainable = bool(trainable)
    return _layers(model)
