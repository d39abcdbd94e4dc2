"""Outgrowing the tab: a model trained and saved by the /train page's own code
(web/train_mnist.py, run natively), trained further by real Keras 3 + JAX with
`keras.distribution.DataParallel` over two host CPU devices, saved, and loaded back into
webkeras with Keras's predictions. Run with `make interop` (needs `.venv-peers`)."""

import importlib.util
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import webkeras as keras
from webkeras.utils import file_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_PY = os.path.join(ROOT, ".venv-peers", "bin", "python")
TRAIN_MNIST = os.path.join(ROOT, "web", "train_mnist.py")
DEVICES = 2
TAB_SAMPLES = 1024
MORE_SAMPLES = 2048
CHECK_IMAGES = 64
TOL = 1e-5

pytestmark = pytest.mark.skipif(
    not os.path.exists(PEERS_PY),
    reason=f"real Keras is not installed ({PEERS_PY} is absent; `make peers-venv`)")

# Runs under real Keras + JAX, with XLA_FLAGS giving the host DEVICES CPU devices.
SCALE_OUT = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import keras

src, dst, data_path, devices = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cpus = keras.distribution.list_devices("cpu")
assert len(cpus) == devices, cpus
keras.distribution.set_distribution(keras.distribution.DataParallel(devices=cpus))
data = np.load(data_path)
model = keras.models.load_model(src)
loaded = model.predict(data["x_check"], verbose=0)
iterations = int(model.optimizer.iterations)
history = model.fit(data["x_train"], data["y_train"], batch_size=64, epochs=1, verbose=0)
kernel = model.layers[-1].kernel.value
model.save(dst)
np.save(dst + ".npy", model.predict(data["x_check"], verbose=0))
print(json.dumps({
    "loaded_error": float(np.abs(loaded - data["tab_predictions"]).max()),
    "iterations_before": iterations,
    "iterations_after": int(model.optimizer.iterations),
    "loss": history.history["loss"],
    "kernel_devices": len(kernel.sharding.device_set),
}))
"""


def load_train_mnist(monkeypatch, save_path):
    """web/train_mnist.py as the tab imports it, with its page hooks stubbed out."""
    reports = []
    worker = types.ModuleType("webkeras_worker")
    worker.report = lambda kind, payload: reports.append((kind, json.loads(payload)))
    worker.pause = lambda: None
    worker.stopRequested = lambda: False
    ffi = types.ModuleType("pyodide.ffi")
    ffi.run_sync = lambda awaitable: awaitable
    monkeypatch.setitem(sys.modules, "webkeras_worker", worker)
    monkeypatch.setitem(sys.modules, "pyodide", types.ModuleType("pyodide"))
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
    spec = importlib.util.spec_from_file_location("webkeras_train_mnist", TRAIN_MNIST)
    page = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(page)
    monkeypatch.setattr(page, "SAVE_PATH", str(save_path))
    return page, reports


def test_train_in_tab_scale_out_with_keras_and_load_back(tmp_path, monkeypatch):
    if not os.path.isfile(os.path.join(file_utils.data_dir(), "mnist.npz")):
        pytest.skip(f"mnist.npz not in {file_utils.data_dir()}: run `make setup`")
    keras.backend.set_backend("numpy")
    tab_file = tmp_path / "mnist_mlp.keras"
    page, reports = load_train_mnist(monkeypatch, tab_file)
    # What the /train page runs, with its default seed.
    page.run({"samples": TAB_SAMPLES, "epochs": 1, "batch_size": 64, "backend": "numpy"})
    result = dict(reports)["result"]
    assert not result["stopped"] and result["test_accuracy"] > 0.5, result

    (x_train, y_train), (x_test, _) = keras.datasets.mnist.load_data()
    x_more = x_train[TAB_SAMPLES:TAB_SAMPLES + MORE_SAMPLES].astype("float32") / 255.0
    x_check = x_test[:CHECK_IMAGES].astype("float32") / 255.0
    tab_predictions = keras.models.load_model(tab_file).predict(x_check, verbose=0)
    data = tmp_path / "data.npz"
    np.savez(data, x_train=x_more, y_train=y_train[TAB_SAMPLES:TAB_SAMPLES + MORE_SAMPLES],
             x_check=x_check, tab_predictions=tab_predictions)

    scaled = tmp_path / "scaled_out.keras"
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}")
    run = subprocess.run([PEERS_PY, "-c", SCALE_OUT, str(tab_file), str(scaled), str(data),
                          str(DEVICES)], check=False, capture_output=True, text=True, env=env,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    keras_side = json.loads(run.stdout.strip().splitlines()[-1])
    # Keras read the tab's file (weights and optimizer state) and trained it data-parallel.
    assert keras_side["loaded_error"] <= TOL, keras_side
    assert keras_side["kernel_devices"] == DEVICES, keras_side
    steps = MORE_SAMPLES // 64
    assert keras_side["iterations_after"] == keras_side["iterations_before"] + steps

    back = keras.models.load_model(scaled)
    keras_predictions = np.load(f"{scaled}.npy")
    max_diff = float(np.abs(back.predict(x_check, verbose=0) - keras_predictions).max())
    assert max_diff <= TOL, max_diff
    assert int(np.asarray(back.optimizer.iterations)) == keras_side["iterations_after"]
    # The further training changed the model.
    assert float(np.abs(keras_predictions - tab_predictions).max()) > 1e-3
    sys.stdout.write(f"scale-out: tab accuracy {result['test_accuracy']:.3f}, Keras loss "
                     f"{keras_side['loss'][0]:.4f} on {DEVICES} devices, max |webkeras - "
                     f"keras| {max_diff:.2e}\n")
