"""The training page's Python: an MLP on MNIST, reporting to the page as it goes.

Runs inside the webkeras worker (web/worker.js), which imports this file as
`webkeras_train_mnist` and calls `run(params)` through `callPromising`, so `run_sync` works
(GPU readback, the dataset fetch, yielding to the worker's event loop). The trained model is
saved to `SAVE_PATH` in Pyodide's filesystem, where the page's Download button reads it, and
kept as `trained_model` for Python the page runs later (the console, tests).
"""

import json
import math
import os
import time

import webkeras_worker
from pyodide.ffi import run_sync

import webkeras as keras

SAVE_PATH = "/home/pyodide/mnist_mlp.keras"
# Seeds Python's, NumPy's and webkeras's random state (initial weights, shuffling) unless
# the page passes its own `seed`: the same parameters train the same model.
DEFAULT_SEED = 1337
trained_model = None


def report(kind, **payload):
    """Post a message {type: kind, ...payload} to the page (numbers go through `_number`)."""
    webkeras_worker.report(kind, json.dumps(payload, default=float))


def _number(value):
    value = float(value)
    return value if math.isfinite(value) else None


class PageReporter(keras.callbacks.Callback):
    """Sends batch and epoch logs to the page; stops when the page's Stop button was pressed."""

    def on_train_begin(self, logs=None):
        self.epochs = int(self.params.get("epochs") or 1)
        self.steps = int(self.params.get("steps") or 0)
        self.done = 0
        self.epoch = 0
        self.stopped = False
        self.last = time.perf_counter()
        report("train-begin", epochs=self.epochs, steps=self.steps, total=self.epochs * self.steps)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        logs = logs or {}
        self.done += 1
        report(
            "batch",
            done=self.done,
            total=self.epochs * self.steps,
            epoch=self.epoch,
            batch=batch,
            loss=_number(logs.get("loss", math.nan)),
            accuracy=_number(logs.get("accuracy", math.nan)),
            ms=(now - self.last) * 1000.0,
        )
        # Let the worker's event loop run so a "stop" message can arrive (the NumPy backend
        # never awaits otherwise); excluded from the step time.
        run_sync(webkeras_worker.pause())
        self.last = time.perf_counter()
        if webkeras_worker.stopRequested():
            self.stopped = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        logs = {key: _number(value) for key, value in (logs or {}).items()}
        report("epoch", epoch=epoch, logs=logs)


def save(model):
    """Write `model` to SAVE_PATH as a `.keras` zip and tell the page it can be downloaded."""
    report("status", text="Saving the model…")
    started = time.perf_counter()
    model.save(SAVE_PATH)
    report("saved", path=SAVE_PATH, bytes=os.path.getsize(SAVE_PATH),
           seconds=time.perf_counter() - started)


def run(params):
    """Train on `samples` MNIST images, evaluate on the full 10k test set, report to the page;
    save the model (also when stopped early: what it learned so far can be downloaded)."""
    global trained_model
    if hasattr(params, "to_py"):  # a JS object from the page
        params = params.to_py()
    samples = int(params.get("samples") or 60000)
    epochs = int(params.get("epochs") or 1)
    batch_size = int(params.get("batch_size") or 128)
    backend_name = params.get("backend") or "webgpu"
    seed = params.get("seed")
    keras.utils.set_random_seed(DEFAULT_SEED if seed is None else int(seed))

    keras.backend.set_backend(backend_name)
    name, adapter = keras.backend.backend(), keras.backend.device()
    report("backend", name=name, adapter=adapter)

    report("status", text="Loading MNIST…")
    started = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:samples].astype("float32") / 255.0
    y_train = y_train[:samples]
    x_test = x_test.astype("float32") / 255.0
    seconds = time.perf_counter() - started
    report("status", text=f"MNIST loaded in {seconds:.1f} s; building model…")

    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    reporter = PageReporter()
    report("status", text=f"Training on {len(x_train)} images…")
    started = time.perf_counter()
    model.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[reporter]
    )
    train_seconds = time.perf_counter() - started
    trained_model = model
    save(model)
    if reporter.stopped:
        report("result", stopped=True, batches=reporter.done, train_seconds=train_seconds)
        return

    report("status", text="Evaluating on the 10,000 test images…")
    started = time.perf_counter()
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    report(
        "result",
        stopped=False,
        batches=reporter.done,
        test_loss=_number(loss),
        test_accuracy=_number(accuracy),
        train_seconds=train_seconds,
        eval_seconds=time.perf_counter() - started,
    )
