"""The workbench's Python side: runs the editor's code in the webkeras worker (web/worker.js).

Imported once per interpreter (as `webkeras_workbench_runtime`), it
- makes `import keras`, `from tensorflow import keras` and `import tensorflow as tf; tf.keras`
  resolve to webkeras (an import hook plus a small `tensorflow` module);
- wraps `Model.fit` so that every fit, with no extra code, streams its batch and epoch logs
  to the page (`fit-begin`, `batch`, `epoch`, `fit-end` events) and stops at the next batch
  when the page asks;
- runs code like a notebook cell: one namespace kept between runs, the value of a last
  expression returned, errors as a traceback starting at the user's code, with its line.
"""

import ast
import builtins
import importlib
import importlib.abc
import importlib.util
import inspect
import json
import linecache
import math
import os
import sys
import time
import traceback
import types

import webkeras_worker
from pyodide.ffi import run_sync

import webkeras
from webkeras.callbacks import Callback
from webkeras.callbacks.callback_list import CallbackList
from webkeras.trainers.trainer import Trainer

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


def install_fit_hook():
    Trainer.fit = _live_fit


# -- running code ---------------------------------------------------------------------------
namespace = {"__name__": "__main__", "__builtins__": builtins}


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
    return {"ok": False, "error": text, "type": type(exc).__name__, "line": line,
            "interrupted": isinstance(exc, KeyboardInterrupt)}


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
    return result


install_aliases()
install_fit_hook()
webkeras.backend.set_backend(str(webkeras_worker.backend()))
