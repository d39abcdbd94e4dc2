"""Milliseconds per train step of the MNIST MLP (784-128-10, batch 128, Adam).

Measures, in one run: webkeras's NumPy backend and WebGPU backend natively (wgpu-py), webkeras's
WebGPU backend in headless Chromium (Pyodide worker, SwiftShader) when the build is there, and
real Keras 3 + JAX when `make bench-peers` has made `.venv-peers`. Prints a table with ratios
against Keras-JAX.

    python bench/train_step.py [--steps N] [--skip-browser]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 128

# One step loop for every contender: `setup` imports a Keras (webkeras on some backend, or real
# Keras 3 on JAX) as `keras`; the snippet leaves its result as JSON in RESULT.
MLP_STEP = """
import json, time
import numpy as np
{setup}
steps = {steps}
rng = np.random.default_rng(0)
x = rng.random((128, 784), dtype=np.float32)
y = rng.integers(0, 10, 128)
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
for _ in range(3):
    model.train_on_batch(x, y)
times = []
for _ in range(steps):
    start = time.perf_counter()
    model.train_on_batch(x, y)  # reads the loss back each step, like TF.js trainOnBatch
    times.append((time.perf_counter() - start) * 1e3)
RESULT = json.dumps({{"median_ms": float(np.median(times)), "steps": steps}})
"""
WEBKERAS_SETUP = "import webkeras as keras\nkeras.backend.set_backend({backend!r})"
KERAS_JAX_SETUP = "import os\nos.environ['KERAS_BACKEND'] = 'jax'\nimport keras"


def mlp_step_snippet(setup, steps):
    return MLP_STEP.format(setup=setup, steps=int(steps))


def run_python(python, snippet, isolated=False):
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    if isolated:
        # The peer's venv must not see this checkout's modules (tests/, server/, ...).
        env.pop("PYTHONPATH", None)
    result = subprocess.run([python, "-c", snippet + "\nprint(RESULT)"], capture_output=True,
                            text=True, env=env, timeout=1200, cwd="/" if isolated else None)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def browser_step_ms(steps, backend):
    """The same model trained by the worker of /train in headless Chromium."""
    from bench._browser import measure_train_step

    return measure_train_step(steps, backend)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()

    results = {
        "webkeras numpy (native)": run_python(
            sys.executable, mlp_step_snippet(WEBKERAS_SETUP.format(backend="numpy"), args.steps)),
        "webkeras webgpu (native, wgpu-py)": run_python(
            sys.executable, mlp_step_snippet(WEBKERAS_SETUP.format(backend="webgpu"), args.steps)),
    }
    if not args.skip_browser:
        results["webkeras webgpu (Chromium, SwiftShader)"] = browser_step_ms(args.steps, "webgpu")
        results["webkeras numpy (Chromium, Pyodide)"] = browser_step_ms(args.steps, "numpy")
    peers_python = ROOT / ".venv-peers" / "bin" / "python"
    if peers_python.exists():
        results["Keras 3 + JAX (native)"] = run_python(
            str(peers_python), mlp_step_snippet(KERAS_JAX_SETUP, args.steps), isolated=True)
    else:
        results["Keras 3 + JAX (native)"] = {"error": "not installed: run `make bench-peers`"}

    reference = results["Keras 3 + JAX (native)"].get("median_ms")
    print(f"MLP 784-128-10, batch {BATCH}, Adam: ms per train step (median of {args.steps})")
    for name, result in results.items():
        if "median_ms" in result:
            ratio = f"  ({result['median_ms'] / reference:.1f}x Keras-JAX)" if reference else ""
            print(f"  {name:42s} {result['median_ms']:9.2f} ms{ratio}")
        else:
            print(f"  {name:42s} {result['error']}")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    start = time.time()
    main()
    print(f"(bench took {time.time() - start:.0f}s)")
