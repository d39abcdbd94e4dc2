"""Milliseconds per train step of the MNIST MLP (784-128-10, batch 128, Adam).

Measures, in one run: webkeras's NumPy backend and WebGPU backend natively (wgpu-py); in headless
Chromium (SwiftShader) when the build is there, webkeras's WebGPU and NumPy backends in the
/train page's Pyodide worker and TF.js 4.22 (`trainOnBatch` on a page's main thread) on its
webgpu, webgl, wasm and cpu backends, each in a fresh profile; and real Keras 3 + JAX when
`make bench-peers` has made `.venv-peers`. Prints a table with ratios against Keras-JAX (the
native peer) and TF.js webgpu (the browser peer).

    python bench/train_step.py [--steps N] [--skip-browser]
"""

import argparse
import json
import os
import statistics
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

# The same MLP, data shapes and loop in TF.js, after bench._browser.TFJS_SET_BACKEND has started
# `backend`; returns each step's ms.
TFJS_STEP = """
  const x = tf.randomUniform([128, 784]);
  const y = tf.floor(tf.randomUniform([128, 1], 0, 10));
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
    tf.layers.dense({ units: 10, activation: "softmax" })] });
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy",
                  metrics: ["accuracy"] });
  const [first] = await model.trainOnBatch(x, y);
  for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
  const times = [];
  let loss;
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    [loss] = await model.trainOnBatch(x, y);  // reads the loss back with await data()
    times.push(performance.now() - start);
  }
  // A backend that computes nothing (as webgpu's dataSync() on SwiftShader) would not learn.
  if (!(loss < first)) throw new Error(`TF.js ${backend}: loss went from ${first} to ${loss}`);
  return { backend: tf.getBackend(), times };"""
TFJS_BACKENDS = {"webgpu": ", SwiftShader", "webgl": ", SwiftShader", "wasm": "", "cpu": ""}
TFJS_PEER = "TF.js 4.22 webgpu (Chromium, SwiftShader)"


def mlp_step_snippet(setup, steps):
    return MLP_STEP.format(setup=setup, steps=int(steps))


def run_python(python, snippet, isolated=False):
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    if isolated:
        # The peer's venv must not see this checkout's modules (tests/, server/, ...).
        env.pop("PYTHONPATH", None)
    result = subprocess.run([python, "-c", snippet + "\nprint(RESULT)"], capture_output=True,
                            text=True, env=env, timeout=1200, cwd="/" if isolated else None,
                            check=False)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def browser_step_ms(steps):
    """The same model trained in headless Chromium by webkeras and TF.js; one server for all."""
    from bench import _browser

    def webkeras_in_tab(backend):
        with _browser.fresh_page(playwright, url, f"/train?backend={backend}") as page:
            code = mlp_step_snippet(WEBKERAS_SETUP.format(backend=backend), steps) + "\nRESULT"
            return json.loads(_browser.run_in_worker(page, code))

    def tfjs(backend):
        with _browser.fresh_page(playwright, url, "/") as page:
            _browser.add_tfjs(page)
            step = f"async ([backend, steps]) => {{{_browser.TFJS_SET_BACKEND}{TFJS_STEP}}}"
            result = page.evaluate(step, [backend, steps])
        if result["backend"] != backend:
            raise RuntimeError(f"TF.js ran on {result['backend']!r}, expected {backend!r}")
        return {"median_ms": statistics.median(result["times"]), "steps": steps}

    contenders = {
        "webkeras webgpu (Chromium, SwiftShader)": (webkeras_in_tab, "webgpu"),
        "webkeras numpy (Chromium, Pyodide)": (webkeras_in_tab, "numpy"),
        **{f"TF.js 4.22 {backend} (Chromium{device})": (tfjs, backend)
           for backend, device in TFJS_BACKENDS.items()},
    }
    try:
        with _browser.browser_session() as (playwright, url):
            return {name: _browser.attempt(measure, backend)
                    for name, (measure, backend) in contenders.items()}
    except Exception as error:  # noqa: BLE001 - no browser: every browser row says why
        return {name: _browser.error_row(error) for name in contenders}


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
        results.update(browser_step_ms(args.steps))
    peers_python = ROOT / ".venv-peers" / "bin" / "python"
    if peers_python.exists():
        results["Keras 3 + JAX (native)"] = run_python(
            str(peers_python), mlp_step_snippet(KERAS_JAX_SETUP, args.steps), isolated=True)
    else:
        results["Keras 3 + JAX (native)"] = {"error": "not installed: run `make bench-peers`"}

    references = [results["Keras 3 + JAX (native)"].get("median_ms"),
                  results.get(TFJS_PEER, {}).get("median_ms")]
    print(f"MLP 784-128-10, batch {BATCH}, Adam: ms per train step (median of {args.steps}); "
          "ratios: lower is faster")
    print(f"  {'contender':42s} {'ms':>9s} {'vs Keras-JAX':>13s} {'vs TF.js webgpu':>16s}")
    for name, result in results.items():
        if "median_ms" in result:
            ms = result["median_ms"]
            ratios = [f"{ms / ref:.2f}x" if ref else "-" for ref in references]
            print(f"  {name:42s} {ms:9.2f} {ratios[0]:>13s} {ratios[1]:>16s}")
        else:
            print(f"  {name:42s} {result['error']}")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    start = time.time()
    main()
    print(f"(bench took {time.time() - start:.0f}s)")
