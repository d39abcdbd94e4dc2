"""The workbench's Python side: runs the editor's code in the webkeras worker (web/worker.js).

Imported once per interpreter (as `webkeras_workbench_runtime`), it
- makes `import keras`, `from tensorflow import keras` and `import tensorflow as tf; tf.keras`
  resolve to webkeras (an import hook plus a small `tensorflow` module);
- wraps `Model.fit` so that every fit, with no extra code, streams its batch and epoch logs
  to the page (`fit-begin`, `batch`, `epoch`, `fit-end` events) and stops at the next batch
  when the page asks;
- wraps `Model.evaluate` so that a classifier's evaluate shows a confusion matrix, and an
  image classifier's a grid of sample predictions (`evaluation` event);
- draws `keras.utils.plot_model` in the page: there is no Graphviz program here, so the page
  renders the DOT text with Graphviz compiled to WebAssembly (`graph` event) and writes
  image files itself;
- runs code like a notebook cell: one namespace kept between runs, the value of a last
  expression returned, errors as a traceback starting at the user's code, with its line;
- exports the user's models (`.keras`, `.h5`, a TF.js zip) and checks uploaded files.
"""

import ast
import base64
import builtins
import importlib
import importlib.abc
import importlib.util
import inspect
import json
import linecache
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
import types
import zipfile

import numpy as np
import webkeras_worker
from pyodide.ffi import run_sync

import webkeras
from webkeras.callbacks import Callback
from webkeras.callbacks.callback_list import CallbackList
from webkeras.saving import tfjs
from webkeras.trainers.trainer import Trainer
from webkeras.utils import model_visualization, tree

HOME = "/home/pyodide"
# Yield to the worker's event loop (so a Stop message gets in) at most this often in a fit.
PAUSE_INTERVAL_S = 0.05


def report(kind, **payload):
    webkeras_worker.report(kind, json.dumps(payload, default=_number))


def _number(value):
    try:
        value = float(value.numpy() if hasattr(value, "numpy") else value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# -- keras / tensorflow aliases ------------------------------------------------------------
ALIASES = {"keras": "webkeras", "tensorflow.keras": "webkeras", "tf_keras": "webkeras"}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class AliasFinder(importlib.abc.MetaPathFinder):
    """`keras.X.Y` and `tensorflow.keras.X.Y` import `webkeras.X.Y` (the same module object)."""

    def find_spec(self, name, path=None, target=None):
        for alias, real in ALIASES.items():
            if name == alias or name.startswith(alias + "."):
                target_name = real + name[len(alias):]
                if importlib.util.find_spec(target_name) is None:
                    return None
                return importlib.util.spec_from_loader(name, _AliasLoader(target_name))
        return None


# TensorFlow names that webkeras.ops spells differently.
_TF_OPS = {"reduce_mean": "mean", "reduce_sum": "sum", "reduce_max": "max", "reduce_min": "min",
           "constant": "convert_to_tensor", "concat": "concatenate"}


def _tensorflow_module():
    """A small `tensorflow`: `tf.keras` is webkeras; other names come from webkeras
    (GradientTape, data, Variable) or webkeras.ops (tf.reduce_mean -> ops.mean)."""
    module = types.ModuleType("tensorflow", "webkeras standing in for TensorFlow in the tab.")
    module.__path__ = []  # a package, so `tensorflow.keras` can be imported
    module.keras = webkeras
    module.random = types.SimpleNamespace(set_seed=webkeras.utils.set_random_seed)

    def __getattr__(name):
        for source, attr in ((webkeras, name), (webkeras.ops, _TF_OPS.get(name, name))):
            if hasattr(source, attr):
                return getattr(source, attr)
        raise AttributeError(f"module 'tensorflow' has no attribute {name!r}: in this tab "
                             "`tensorflow` is webkeras (tf.keras, GradientTape, data, ops).")

    module.__getattr__ = __getattr__
    return module


def install_aliases():
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    sys.modules.setdefault("tensorflow", _tensorflow_module())


# -- live logs of every fit -----------------------------------------------------------------
class LiveLogs(Callback):
    """Streams a fit's logs to the page; stops the fit when the page asks."""

    def on_train_begin(self, logs=None):
        self.started = self.paused = time.perf_counter()
        self.epochs = int(self.params.get("epochs") or 1)
        self.steps = int(self.params.get("steps") or 0)
        self.done = 0
        self.epoch = 0
        report("fit-begin", epochs=self.epochs, steps=self.steps,
               backend=webkeras.backend.backend(), device=webkeras.backend.device())

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        now = time.perf_counter()
        report("batch", epoch=self.epoch, batch=batch, done=self.done,
               total=self.epochs * self.steps, seconds=now - self.started,
               logs={key: _number(value) for key, value in (logs or {}).items()})
        if now - self.paused >= PAUSE_INTERVAL_S:
            run_sync(webkeras_worker.pause())
            self.paused = time.perf_counter()
        if webkeras_worker.stopRequested():
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        report("epoch", epoch=epoch, done=self.done, seconds=time.perf_counter() - self.started,
               logs={key: _number(value) for key, value in (logs or {}).items()})

    def on_train_end(self, logs=None):
        report("fit-end", done=self.done, stopped=bool(webkeras_worker.stopRequested()),
               seconds=time.perf_counter() - self.started)


_original_fit = Trainer.fit
_fit_signature = inspect.signature(_original_fit)


def _live_fit(self, *args, **kwargs):
    bound = _fit_signature.bind(self, *args, **kwargs)
    callbacks = bound.arguments.get("callbacks")
    live = LiveLogs()
    if isinstance(callbacks, CallbackList):
        live.set_model(self)
        live.set_params(callbacks.params)
        callbacks.append(live)
    else:
        bound.arguments["callbacks"] = [*(callbacks or []), live]
    return _original_fit(*bound.args, **bound.kwargs)


_live_fit.__doc__ = _original_fit.__doc__
_live_fit.__wrapped__ = _original_fit


# -- evaluate: a confusion matrix and sample predictions ------------------------------------
# Beyond these, a confusion matrix is unreadable and the grid's pictures too big to send.
MAX_CLASSES = 50
GRID_SAMPLES = 16
GRID_MAX_SIDE = 64


def _host(value):
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _loss_name(model):
    loss = model.loss
    if isinstance(loss, dict):
        loss = next(iter(loss.values()), None)
    elif isinstance(loss, (list, tuple)):
        loss = loss[0] if loss else None
    name = loss if isinstance(loss, str) else (getattr(loss, "name", None)
                                               or getattr(loss, "__name__", ""))
    return str(name).lower(), bool(getattr(loss, "from_logits", False))


def _picture(image):
    """An image sample as {width, height, channels, pixels: base64 uint8}, scaled to 0..255
    and shrunk by striding to at most GRID_MAX_SIDE pixels a side."""
    image = image if image.ndim == 3 else image[..., None]
    stride = -(-max(image.shape[:2]) // GRID_MAX_SIDE)
    image = image[::stride, ::stride].astype("float64")
    low, high = image.min(), image.max()
    scaled = (image - low) / (high - low) * 255 if high > low else np.zeros_like(image)
    pixels = np.ascontiguousarray(scaled.round().astype("uint8"))
    height, width, channels = pixels.shape
    return {"width": width, "height": height, "channels": channels,
            "pixels": base64.b64encode(pixels.tobytes()).decode()}


class EvaluationCapture:
    """A classifier's true and predicted classes over one `evaluate` (its first output), and
    its first input images; reported as an `evaluation` event."""

    def __init__(self, model):
        self.model = model
        self.true, self.predicted, self.images = [], [], []
        self.loss, self.from_logits = _loss_name(model)
        self.classifier = "crossentropy" in self.loss

    def _classes(self, y_true, y_pred):
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            true = y_true.argmax(-1) if y_true.shape == y_pred.shape else y_true.reshape(-1)
            return true.astype("int64"), y_pred.argmax(-1)
        if "binary" in self.loss and y_pred.size == y_pred.shape[0]:
            threshold = 0.0 if self.from_logits else 0.5
            return y_true.reshape(-1).round().astype("int64"), \
                (y_pred.reshape(-1) > threshold).astype("int64")
        return None

    def add(self, x, y, y_pred):
        if not self.classifier or y is None:
            return
        classes = self._classes(_host(tree.flatten(y)[0]), _host(tree.flatten(y_pred)[0]))
        if classes is None:
            self.classifier = False
            return
        self.true.append(classes[0])
        self.predicted.append(classes[1])
        images = _host(tree.flatten(x)[0])
        is_image = images.ndim == 3 or (images.ndim == 4 and images.shape[-1] in (1, 3))
        wanted = GRID_SAMPLES - len(self.images)
        if is_image and wanted > 0:
            self.images += [_picture(image) for image in images[:wanted]]

    def report(self):
        if not self.classifier or not self.true:
            return
        true, predicted = np.concatenate(self.true), np.concatenate(self.predicted)
        classes = int(max(true.max(), predicted.max(), 1)) + 1
        if true.min() < 0 or classes > MAX_CLASSES:
            return
        matrix = np.zeros((classes, classes), "int64")
        np.add.at(matrix, (true, predicted), 1)
        grid = [dict(image, true=int(t), predicted=int(p))
                for image, t, p in zip(self.images, true, predicted)]
        report("evaluation", model=self.model.name, samples=int(true.size),
               accuracy=float((true == predicted).mean()), matrix=matrix.tolist(), grid=grid)


_evaluations = []  # the captures of the evaluate calls running now (innermost last)
_original_evaluate = Trainer.evaluate
_original_compute_metrics = Trainer.compute_metrics


def _evaluate_with_insights(self, *args, **kwargs):
    capture = EvaluationCapture(self)
    _evaluations.append(capture)
    try:
        result = _original_evaluate(self, *args, **kwargs)
    finally:
        _evaluations.remove(capture)
    capture.report()
    return result


def _compute_metrics_seen(self, x, y, y_pred, sample_weight=None):
    if _evaluations and _evaluations[-1].model is self:
        _evaluations[-1].add(x, y, y_pred)
    return _original_compute_metrics(self, x, y, y_pred, sample_weight)


_evaluate_with_insights.__doc__ = _original_evaluate.__doc__
_evaluate_with_insights.__wrapped__ = _original_evaluate


# -- plot_model: drawn by the page ----------------------------------------------------------
_original_dot_write = model_visualization.Dot.write


def _dot_write_in_page(self, path, format="raw"):  # noqa: A002 - pydot's name
    """There is no Graphviz program in the tab: the page draws the DOT text (Graphviz in
    WebAssembly) and writes an svg/png/jpg `path` itself; DOT text is written here."""
    if format in model_visualization.DOT_FORMATS:
        _original_dot_write(self, path, format)
    report("graph", dot=self.to_string(), path=os.path.abspath(path), format=format)


def install_page_hooks():
    Trainer.fit = _live_fit
    Trainer.evaluate = _evaluate_with_insights
    Trainer.compute_metrics = _compute_metrics_seen
    model_visualization.Dot.write = _dot_write_in_page


# -- running code ---------------------------------------------------------------------------
namespace = {"__name__": "__main__", "__builtins__": builtins}
OUT_OF_MEMORY = (
    "\nOut of memory: the tab's Python has one WebAssembly memory of at most 4 GiB, shared by "
    "every array and model of this session. Use less data (a slice of the dataset), smaller "
    "batches or a smaller model; `del` big variables you no longer need, or press Restart for "
    "a fresh interpreter (the files in the working directory are kept).\n")


def _split_last_expression(tree):
    """(statements, last expression or None): a cell's last expression is its value."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        return tree, last
    return tree, None


def _error(exc, filename):
    """The traceback from the first frame of the user's code on, and the line it points at."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == filename:
            line = lineno
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    if isinstance(exc, MemoryError):
        text += OUT_OF_MEMORY
    return {"ok": False, "error": text, "type": type(exc).__name__, "line": line,
            "interrupted": isinstance(exc, KeyboardInterrupt),
            "outOfMemory": isinstance(exc, MemoryError)}


def run(code, filename="<editor>"):
    """Runs `code` in the workbench's namespace; returns {ok, value} or {ok: false, error,
    type, line, interrupted}."""
    os.chdir(HOME)
    lines = code.splitlines(keepends=True)
    linecache.cache[filename] = (len(code), None, lines, filename)
    report("backend", name=webkeras.backend.backend(), adapter=webkeras.backend.device())
    started = time.perf_counter()
    try:
        tree, last = _split_last_expression(ast.parse(code, filename))
        exec(compile(tree, filename, "exec"), namespace)
        value = eval(compile(last, filename, "eval"), namespace) if last else None
    except BaseException as exc:  # noqa: B036 - KeyboardInterrupt (Stop) is reported too
        result = _error(exc, filename)
    else:
        result = {"ok": True, "value": None if value is None else repr(value)}
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    result["seconds"] = time.perf_counter() - started
    result["models"] = user_models()
    return result


# -- files in and out -----------------------------------------------------------------------
EXPORT_FORMATS = ("keras", "h5", "tfjs")


def user_models():
    """The built Keras models among the user's variables: [{name, type, params}]."""
    return [{"name": name, "type": type(value).__name__, "params": value.count_params()}
            for name, value in namespace.items()
            if isinstance(value, webkeras.Model) and not name.startswith("_") and value.built]


def export_model(name, format):  # noqa: A002 - the page's word
    """Saves the variable `name`'s model into the working directory as `<name>.keras`,
    `<name>.h5` or a TF.js layers model zipped as `<name>_tfjs.zip`; returns the file name."""
    model = namespace.get(name)
    if not isinstance(model, webkeras.Model):
        raise ValueError(f"There is no Keras model named {name!r} among your variables.")
    if format not in EXPORT_FORMATS:
        raise ValueError(f"Unknown export format {format!r}: expected one of {EXPORT_FORMATS}.")
    os.chdir(HOME)
    if format != "tfjs":
        model.save(f"{name}.{format}")
        return f"{name}.{format}"
    with tempfile.TemporaryDirectory() as folder:
        tfjs.save_tfjs(model, folder)
        with zipfile.ZipFile(f"{name}_tfjs.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(os.listdir(folder)):
                archive.write(os.path.join(folder, file), file)
    return f"{name}_tfjs.zip"


def _describe_model(model):
    return (f"{type(model).__name__} '{model.name}', {len(model.layers)} layers, "
            f"{model.count_params():,} parameters")


def _unpack_tfjs_zip(path):
    """Unpacks a zip holding a TF.js model.json into a folder named after it; its path."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if tfjs.MODEL_JSON not in [os.path.basename(n) for n in names]:
            return None
        for member in names:
            if member.startswith("/") or ".." in member.split("/"):
                raise ValueError(f"{path}: the zip member {member!r} would leave its folder.")
        folder = os.path.splitext(path)[0]
        shutil.rmtree(folder, ignore_errors=True)
        archive.extractall(folder)
    json_name = next(n for n in names if os.path.basename(n) == tfjs.MODEL_JSON)
    return os.path.join(folder, json_name)


def inspect_upload(path):
    """What an uploaded file holds, as one line for the output: a model loads (a TF.js zip is
    unpacked first), arrays are listed. A file that does not load says why (ok: false)."""
    os.chdir(HOME)
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix in (".keras", ".h5", ".hdf5"):
            model = webkeras.saving.load_model(path, compile=False)
            text = f"{path}: {_describe_model(model)}; keras.saving.load_model({path!r}) loads it."
        elif suffix == ".zip":
            model_json = _unpack_tfjs_zip(path)
            if model_json is None:
                return {"ok": True, "text": f"{path}: a zip without a TF.js model.json."}
            model = tfjs.load_tfjs(model_json)
            text = (f"{path}: a TF.js model, unpacked into {os.path.dirname(model_json)}/: "
                    f"{_describe_model(model)}; webkeras.saving.tfjs.load_tfjs"
                    f"({model_json!r}) loads it.")
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                listed = ", ".join(f"{key} {arrays[key].shape} {arrays[key].dtype}"
                                   for key in arrays.files)
            text = f"{path}: arrays {listed or '(none)'}"
        elif suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            text = f"{path}: an array {array.shape} {array.dtype}"
        elif suffix == ".csv":
            with open(path, encoding="utf-8", errors="replace") as file:
                header = file.readline().strip()
                rows = sum(1 for _ in file)
            text = f"{path}: {rows} rows after the header {header[:200]!r}"
        else:
            return {"ok": True, "text": ""}
    except Exception as exc:  # noqa: BLE001 - any failure is the file's, said in the output
        return {"ok": False, "text": f"{path} could not be read: {type(exc).__name__}: {exc}"}
    return {"ok": True, "text": text}


install_aliases()
install_page_hooks()
webkeras.backend.set_backend(str(webkeras_worker.backend()))
