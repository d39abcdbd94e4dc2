"""Milliseconds per train step of the MNIST MLP (784-128-10, batch 128, Adam), LeNet or IMDB LSTM.

Measures, in one run: webkeras's NumPy backend and WebGPU backend natively (wgpu-py); in headless
Chromium (SwiftShader) when the build is there, webkeras's WebGPU and NumPy backends (with and
without its WASM SIMD kernels) in the /train page's Pyodide worker and TF.js 4.22
(`trainOnBatch` on a page's main thread) on its webgpu, webgl, wasm and cpu backends, each in a
fresh profile; and real Keras 3 + JAX when `make bench-peers` has made `.venv-peers`. Prints a
table with ratios against Keras-JAX (the native peer), TF.js webgpu (the browser peer) and TF.js
wasm (the browser's CPU peer).

    python bench/train_step.py [--model mlp|lenet|imdb] [--steps N] [--skip-browser]
                               [--skip-webgpu] [--skip-native] [--only NAME ...]

Natively the NumPy backend runs twice: with traced steps (`jit_compile=True`: the step's
backend calls recorded once and replayed, trainers/step_plan.py) and eager ones
(`jit_compile=False`), and so does webkeras's WebGPU in the tab (its replay: one bridge call and
one submit per program, web/gpu_bridge.js). Keras-JAX and the tab's NumPy rows keep their
default (`"auto"`). `--only` keeps the rows whose name contains one of its words (e.g.
`--only webgpu` for the WebGPU rows natively and in the tab, TF.js webgpu among them).

`--model lenet`: Conv2D 32 5x5 relu, MaxPool 2, Conv2D 64 5x5 relu, MaxPool 2, Flatten, Dense
500 relu, Dense 10 softmax; 28x28x1, batch 32, SGD (TF.js wasm cannot train it: it lacks
Conv2DBackpropFilter, and its row says so). `--model imdb` (M3): Embedding 20000x128, LSTM 128,
Dense 1 sigmoid; 80 token ids per sample, batch 32, Adam, binary cross-entropy.
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

# The models: the same layers in Keras (webkeras or Keras 3) and in TF.js, the input shape (batch
# first) and the optimizer.
MODELS = {
    "mlp": {
        "title": "MLP 784-128-10, batch 128, Adam",
        "x": (128, 784),
        "optimizer": "adam",
        "keras": """[keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")]""",
        "tfjs": """[
    tf.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
    tf.layers.dense({ units: 10, activation: "softmax" })]""",
    },
    "lenet": {
        "title": "LeNet (Conv 32@5x5, pool, Conv 64@5x5, pool, Dense 500, 10), batch 32, SGD",
        "x": (32, 28, 28, 1),
        "optimizer": "sgd",
        "keras": """[keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 5, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(64, 5, activation="relu"), keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(), keras.layers.Dense(500, activation="relu"),
    keras.layers.Dense(10, activation="softmax")]""",
        "tfjs": """[
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 64, kernelSize: 5, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 500, activation: "relu" }),
    tf.layers.dense({ units: 10, activation: "softmax" })]""",
    },
    "imdb": {
        "title": "IMDB LSTM (Embedding 20000x128, LSTM 128, Dense 1), length 80, batch 32, Adam",
        "x": (32, 80),
        "optimizer": "adam",
        "tokens": 20000,
        "keras": """[keras.Input((80,)), keras.layers.Embedding(20000, 128),
    keras.layers.LSTM(128), keras.layers.Dense(1, activation="sigmoid")]""",
        "tfjs": """[
    tf.layers.embedding({ inputShape: [80], inputDim: 20000, outputDim: 128 }),
    tf.layers.lstm({ units: 128 }),
    tf.layers.dense({ units: 1, activation: "sigmoid" })]""",
    },
}
# Inputs, labels and loss: float features and 10 classes, or (`tokens`) token ids and 2 classes.
FEATURES = {"x_py": "rng.random({x_shape}, dtype=np.float32)",
            "y_py": "rng.integers(0, 10, {batch})", "loss": "sparse_categorical_crossentropy",
            "x_js": "tf.randomUniform(X_SHAPE)",
            "y_js": "tf.floor(tf.randomUniform([BATCH, 1], 0, 10))",
            "loss_js": "sparseCategoricalCrossentropy"}
TOKENS = {"x_py": "rng.integers(1, {tokens}, {x_shape})",
          "y_py": "rng.integers(0, 2, ({batch}, 1)).astype(np.float32)",
          "loss": "binary_crossentropy",
          "x_js": "tf.floor(tf.randomUniform(X_SHAPE, 1, TOKENS))",
          "y_js": "tf.floor(tf.randomUniform([BATCH, 1], 0, 2))", "loss_js": "binaryCrossentropy"}


def model_data(model):
    spec = MODELS[model]
    return TOKENS if "tokens" in spec else FEATURES

# One step loop for every contender: `setup` imports a Keras (webkeras on some backend, or real
# Keras 3 on JAX) as `keras`; the snippet leaves its result as JSON in RESULT.
STEP = """
import json, time
import numpy as np
{setup}
steps = {steps}
rng = np.random.default_rng(0)
x = {x_py}
y = {y_py}
model = keras.Sequential({layers})
model.compile(optimizer={optimizer!r}, loss={loss!r}, metrics=["accuracy"]{compile_args})
for _ in range(3):
    model.train_on_batch(x, y)
# The WebGPU drivers count their dispatches and queue submits: natively the driver, in the tab
# its JS bridge (others: none).
driver = getattr(getattr(keras.backend, "get_backend", lambda: None)(), "driver", None)
counter = getattr(getattr(driver, "bridge", None), "stats", driver)
counts = lambda: (getattr(counter, "dispatches", 0), getattr(counter, "submits", 0))
before = counts()
times = []
for _ in range(steps):
    start = time.perf_counter()
    model.train_on_batch(x, y)  # reads the loss back each step, like TF.js trainOnBatch
    times.append((time.perf_counter() - start) * 1e3)
per_step = [(b - a) / steps for a, b in zip(before, counts())]
RESULT = json.dumps({{"median_ms": float(np.median(times)), "steps": steps,
                      "dispatches": per_step[0], "submits": per_step[1]}})
"""
WEBKERAS_SETUP = "import webkeras as keras\nkeras.backend.set_backend({backend!r})"
# The tab's NumPy backend without its WASM SIMD kernels (kernels/wasm/), to see what they add.
NUMPY_ONLY_SETUP = ("from webkeras.backend.numpy import wasm_kernels\n"
                    "wasm_kernels.set_enabled(False)\n" + WEBKERAS_SETUP)
# ...and with the SIMD128 build where the default picks the relaxed-SIMD (fused multiply-add) one.
SIMD128_SETUP = ("from webkeras.backend.numpy import wasm_kernels\n"
                 "wasm_kernels.set_enabled(True, 'simd128')\n" + WEBKERAS_SETUP)
KERAS_JAX_SETUP = "import os\nos.environ['KERAS_BACKEND'] = 'jax'\nimport keras"

# The same model, data shapes and loop in TF.js (placeholders X_SHAPE, BATCH, LAYERS, OPTIMIZER),
# after bench._browser.TFJS_SET_BACKEND has started `backend`; returns each step's ms.
TFJS_STEP = """
  const x = X_DATA;
  const y = Y_DATA;
  const model = tf.sequential({ layers: LAYERS });
  model.compile({ optimizer: OPTIMIZER, loss: LOSS, metrics: ["accuracy"] });
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
TFJS_CPU_PEER = "TF.js 4.22 wasm (Chromium)"


def step_snippet(model, setup, steps, jit_compile=None):
    """The step loop; `jit_compile` (webkeras: traced or eager steps) given to compile()
    when not None (Keras-JAX keeps its default, XLA)."""
    spec, data = MODELS[model], model_data(model)
    shapes = {"x_shape": spec["x"], "batch": spec["x"][0], "tokens": spec.get("tokens")}
    compile_args = "" if jit_compile is None else f", jit_compile={jit_compile!r}"
    return STEP.format(setup=setup, steps=int(steps), x_py=data["x_py"].format(**shapes),
                       y_py=data["y_py"].format(**shapes), layers=spec["keras"],
                       optimizer=spec["optimizer"], loss=data["loss"],
                       compile_args=compile_args)


def tfjs_step(model):
    spec, data = MODELS[model], model_data(model)
    return (TFJS_STEP.replace("X_DATA", data["x_js"]).replace("Y_DATA", data["y_js"])
            .replace("LOSS", json.dumps(data["loss_js"]))
            .replace("TOKENS", str(spec.get("tokens")))
            .replace("X_SHAPE", json.dumps(list(spec["x"])))
            .replace("BATCH", str(spec["x"][0])).replace("LAYERS", spec["tfjs"])
            .replace("OPTIMIZER", json.dumps(spec["optimizer"])))


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


def browser_step_ms(model, steps, wanted):
    """The same model trained in headless Chromium by webkeras and TF.js; one server for all.
    Only the contenders whose name `wanted` accepts."""
    from bench import _browser

    def webkeras_in_tab(backend, setup=WEBKERAS_SETUP, jit_compile=None):
        with _browser.fresh_page(playwright, url, f"/train?backend={backend}") as page:
            code = step_snippet(model, setup.format(backend=backend), steps, jit_compile)
            return json.loads(_browser.run_in_worker(page, code + "\nRESULT"))

    def tfjs(backend):
        with _browser.fresh_page(playwright, url, "/") as page:
            _browser.add_tfjs(page)
            step = f"async ([backend, steps]) => {{{_browser.TFJS_SET_BACKEND}{tfjs_step(model)}}}"
            result = page.evaluate(step, [backend, steps])
        if result["backend"] != backend:
            raise RuntimeError(f"TF.js ran on {result['backend']!r}, expected {backend!r}")
        return {"median_ms": statistics.median(result["times"]), "steps": steps}

    contenders = {
        "webkeras webgpu (Chromium, SwiftShader), traced steps": (
            lambda backend: webkeras_in_tab(backend, jit_compile=True), "webgpu"),
        "webkeras webgpu (Chromium, SwiftShader), eager steps": (
            lambda backend: webkeras_in_tab(backend, jit_compile=False), "webgpu"),
        "webkeras numpy (Chromium, Pyodide, relaxed-SIMD kernels)": (webkeras_in_tab, "numpy"),
        "webkeras numpy (Chromium, Pyodide, SIMD128 kernels)": (
            lambda backend: webkeras_in_tab(backend, SIMD128_SETUP), "numpy"),
        "webkeras numpy (Chromium, Pyodide, no SIMD kernels)": (
            lambda backend: webkeras_in_tab(backend, NUMPY_ONLY_SETUP), "numpy"),
        **{f"TF.js 4.22 {backend} (Chromium{device})": (tfjs, backend)
           for backend, device in TFJS_BACKENDS.items()},
    }
    contenders = {name: contender for name, contender in contenders.items() if wanted(name)}
    if not contenders:
        return {}
    try:
        with _browser.browser_session() as (playwright, url):
            return {name: _browser.attempt(measure, backend)
                    for name, (measure, backend) in contenders.items()}
    except Exception as error:  # noqa: BLE001 - no browser: every browser row says why
        return {name: _browser.error_row(error) for name in contenders}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-webgpu", action="store_true",
                        help="leave out the native WebGPU row (slow on software Vulkan)")
    parser.add_argument("--skip-native", action="store_true",
                        help="leave out every native row (webkeras and Keras-JAX)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only the rows whose name contains one of these words")
    args = parser.parse_args()

    def wanted(name):
        return not args.only or any(word in name for word in args.only)

    def snippet(setup, jit_compile=None):
        return step_snippet(args.model, setup, args.steps, jit_compile)

    native = {}
    numpy_setup = WEBKERAS_SETUP.format(backend="numpy")
    native["webkeras numpy (native), traced steps"] = (numpy_setup, True)
    native["webkeras numpy (native), eager steps"] = (numpy_setup, False)
    if not args.skip_webgpu:
        webgpu_setup = WEBKERAS_SETUP.format(backend="webgpu")
        native["webkeras webgpu (native, wgpu-py), traced steps"] = (webgpu_setup, True)
        native["webkeras webgpu (native, wgpu-py), eager steps"] = (webgpu_setup, False)
    results = {}
    if not args.skip_native:
        results.update({name: run_python(sys.executable, snippet(setup, jit_compile))
                        for name, (setup, jit_compile) in native.items() if wanted(name)})
    if not args.skip_browser:
        results.update(browser_step_ms(args.model, args.steps, wanted))
    peers_python = ROOT / ".venv-peers" / "bin" / "python"
    if not args.skip_native and wanted("Keras 3 + JAX (native)"):
        results["Keras 3 + JAX (native)"] = (
            run_python(str(peers_python), snippet(KERAS_JAX_SETUP), isolated=True)
            if peers_python.exists() else {"error": "not installed: run `make bench-peers`"})

    references = [results.get("Keras 3 + JAX (native)", {}).get("median_ms"),
                  results.get(TFJS_PEER, {}).get("median_ms"),
                  results.get(TFJS_CPU_PEER, {}).get("median_ms")]
    print(f"{MODELS[args.model]['title']}: ms per train step (median of {args.steps}); "
          "ratios: lower is faster")
    print(f"  {'contender':58s} {'ms':>9s} {'vs Keras-JAX':>13s} {'vs TF.js webgpu':>16s} "
          f"{'vs TF.js wasm':>14s}")
    for name, result in results.items():
        if "median_ms" in result:
            ms = result["median_ms"]
            ratios = [f"{ms / ref:.2f}x" if ref else "-" for ref in references]
            counts = (f"  ({result['dispatches']:.0f} dispatches, {result['submits']:.1f} "
                      "submits a step)") if result.get("submits") else ""
            print(f"  {name:58s} {ms:9.2f} {ratios[0]:>13s} {ratios[1]:>16s} {ratios[2]:>14s}"
                  f"{counts}")
        else:
            print(f"  {name:58s} {result['error'].splitlines()[0]}")
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    start = time.time()
    main()
    print(f"(bench took {time.time() - start:.0f}s)")
