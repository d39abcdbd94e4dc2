"""Load + first predict, and predictions per second, for the MNIST CNN in headless Chromium:
webkeras's JS API (/webkeras.js; WebGPU kernels, and NumPy in wasm) against TF.js 4.22
(`tf.loadLayersModel` + `predict`, webgpu and wasm backends), same browser, same server, same
model files (build/models/mnist_cnn, written by webkeras; `make setup` trains it).

    .venv/bin/python bench/load_predict.py [--repeats 30]

Each contender starts in a fresh browser profile, so "load" includes everything a first visit
pays: webkeras boots Pyodide + NumPy + webkeras in a worker; TF.js starts its backend. Then
`predict` on one real MNIST test image, repeated (median ms), and on a batch of 32 (images/s).
Predictions are checked against each other (same argmax, max |diff|).
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

import numpy as np
from webkeras.server.app import default_build_dir

from bench._browser import (
    TFJS_SET_BACKEND,
    add_tfjs,
    attempt,
    browser_session,
    fresh_page,
)

MODEL_URL = "/models/mnist_cnn/model.json"
BATCH = 32

# Both run in the page; `images` is a flat Float32Array of BATCH 28x28 images.
WEBKERAS_JS = """async ([url, backend, images, repeats, batch]) => {
  const t0 = performance.now();
  const webkeras = await import("/webkeras.js");
  const boot = await webkeras.init({ backend });
  const tBoot = performance.now();
  const model = await webkeras.loadModel(url);
  const tLoad = performance.now();
  const one = (i) => images.slice(i * 784, (i + 1) * 784);
  const first = await model.predict(one(0), [1, 28, 28, 1]);
  const tFirst = performance.now();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await model.predict(one(i % batch), [1, 28, 28, 1]);
    times.push(performance.now() - t);
  }
  const tb = performance.now();
  const all = await model.predict(images, [batch, 28, 28, 1]);
  const batchMs = performance.now() - tb;
  return { backend: boot.backend, bootMs: tBoot - t0, loadMs: tLoad - tBoot,
           firstPredictMs: tFirst - tLoad, loadAndFirstMs: tFirst - t0, times, batchMs,
           first: Array.from(first.data), batch: Array.from(all.data) };
}"""

TFJS_JS = """async ([url, backend, images, repeats, batch]) => {
  const t0 = performance.now();""" + TFJS_SET_BACKEND + """
  const tBoot = performance.now();
  const model = await tf.loadLayersModel(url);
  const tLoad = performance.now();
  // await data(): on SwiftShader, webgpu's dataSync() returns zeros.
  const run = async (x) => {
    const y = model.predict(x); const d = await y.data(); y.dispose(); return d;
  };
  const one = (i) => tf.tensor(images.slice(i * 784, (i + 1) * 784), [1, 28, 28, 1]);
  const x0 = one(0);
  const first = await run(x0);
  x0.dispose();
  const tFirst = performance.now();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const x = one(i % batch);
    const t = performance.now();
    await run(x);
    times.push(performance.now() - t);
    x.dispose();
  }
  const xb = tf.tensor(images, [batch, 28, 28, 1]);
  const tb = performance.now();
  const all = await run(xb);
  const batchMs = performance.now() - tb;
  xb.dispose();
  return { backend: tf.getBackend(), bootMs: tBoot - t0, loadMs: tLoad - tBoot,
           firstPredictMs: tFirst - tLoad, loadAndFirstMs: tFirst - t0, times, batchMs,
           first: Array.from(first), batch: Array.from(all) };
}"""

CONTENDERS = [
    ("webkeras JS API, webgpu", "webkeras", "webgpu"),
    ("webkeras JS API, numpy (wasm)", "webkeras", "numpy"),
    ("TF.js 4.22 webgpu", "tfjs", "webgpu"),
    ("TF.js 4.22 wasm", "tfjs", "wasm"),
]


def mnist_images():
    import webkeras as keras

    _, (x_test, _) = keras.datasets.mnist.load_data()
    return (x_test[:BATCH].astype("float32") / 255.0).ravel().tolist()


def run_contender(playwright, url, kind, backend, images, repeats):
    with fresh_page(playwright, url, "/") as page:
        if kind == "tfjs":
            add_tfjs(page)
        code = WEBKERAS_JS if kind == "webkeras" else TFJS_JS
        return page.evaluate(
            f"async (args) => {{ args[2] = new Float32Array(args[2]); return ({code})(args); }}",
            [MODEL_URL, backend, images, repeats, BATCH])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    models = default_build_dir() / "models" / "mnist_cnn" / "model.json"
    if not models.is_file():
        sys.exit(f"{models} is missing: run `make setup`")
    images = mnist_images()
    results = {}
    with browser_session() as (playwright, url):
        for name, kind, backend in CONTENDERS:
            print(f"  {name}…", file=sys.stderr, flush=True)
            results[name] = attempt(run_contender, playwright, url, kind, backend, images,
                                    args.repeats)

    peer = results.get("TF.js 4.22 webgpu", {})
    reference = np.asarray(peer.get("batch", []), np.float32).reshape(-1, 10)
    print(f"\nMNIST CNN ({models.parent.name}), batch-1 predict repeated {args.repeats}x, "
          f"batch {BATCH}; ratios vs TF.js webgpu (lower is faster)\n")
    print("| contender | backend | load + first predict ms | of which boot ms | predict ms "
          "(batch 1, median) | images/s (batch 32) | vs TF.js webgpu (predict) | "
          "max abs diff vs TF.js webgpu |")
    print("|---|---|---|---|---|---|---|---|")
    for name, _, _ in CONTENDERS:
        r = results[name]
        if "error" in r:
            print(f"| {name} | – | error: {r['error']} | | | | | |")
            continue
        median = statistics.median(r["times"])
        ratio = ""
        if "times" in peer:
            ratio = f"{median / statistics.median(peer['times']):.2f}×"
        diff = ""
        batch = np.asarray(r["batch"], np.float32).reshape(-1, 10)
        if reference.size:
            same = (batch.argmax(1) == reference.argmax(1)).mean()
            diff = f"{np.abs(batch - reference).max():.1e} (argmax agree {same:.0%})"
        print(f"| {name} | {r['backend']} | {r['loadAndFirstMs']:.0f} | {r['bootMs']:.0f} | "
              f"{median:.1f} | {BATCH / r['batchMs'] * 1000:.0f} | {ratio} | {diff} |")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {k: {kk: vv for kk, vv in v.items() if kk not in ("first", "batch")}
             for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
