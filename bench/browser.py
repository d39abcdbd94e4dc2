"""Runs benchmark snippets inside the /train page's Pyodide worker in headless Chromium."""

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from webkeras.server.app import create_app  # noqa: E402
from webkeras.server.browser import launch_chromium, run_python, serve_app, wait_ready  # noqa: E402

TRAIN_STEP = """
import json, time
import numpy as np
import webkeras as keras
keras.backend.set_backend("{backend}")
rng = np.random.default_rng(0)
x = rng.random((128, 784), dtype=np.float32)
y = rng.integers(0, 10, 128)
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
for _ in range(3):
    model.train_on_batch(x, y)
times = []
for _ in range({steps}):
    start = time.perf_counter()
    model.train_on_batch(x, y)
    times.append((time.perf_counter() - start) * 1e3)
json.dumps({{"median_ms": float(np.median(times)), "steps": {steps}}})
"""


def run_in_worker(code, backend="webgpu"):
    """Boot /train in a fresh headless Chromium, run `code` in its worker, return the result."""
    if not (ROOT / "build" / "pyodide" / "pyodide.mjs").exists():
        raise RuntimeError("build/pyodide is missing: run `make setup` first")
    from playwright.sync_api import sync_playwright

    with serve_app(create_app()) as url, sync_playwright() as playwright, \
            tempfile.TemporaryDirectory() as profile:
        context = launch_chromium(playwright, profile)
        try:
            page = context.new_page()
            page.goto(f"{url}/train?backend={backend}")
            wait_ready(page)
            return run_python(page, code)
        finally:
            context.close()


def measure_train_step(steps, backend="webgpu"):
    """Median ms per MLP train step (batch 128, Adam) in the tab."""
    try:
        return json.loads(run_in_worker(TRAIN_STEP.format(steps=steps, backend=backend), backend))
    except Exception as error:  # noqa: BLE001 - reported in the bench table
        return {"error": f"{type(error).__name__}: {error}"[:300]}


if __name__ == "__main__":
    print(measure_train_step(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
