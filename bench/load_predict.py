"""Load + first predict, and predictions per second, for the MNIST CNN in headless Chromium:
webkeras's JS API (/webkeras.js; WebGPU kernels, and NumPy in wasm) against TF.js 4.22
(`tf.loadLayersModel` + `predict`, webgpu and wasm backends), same browser, same server, same
model files (build/models/mnist_cnn, written by webkeras; `make setup` trains it).

    .venv/bin/python bench/load_predict.py [--repeats 30] [--starts 3] [--json out.json]

Each contender starts in a fresh browser profile and visits the page twice: the first visit
pays everything from an empty HTTP cache (webkeras boots Pyodide + NumPy + webkeras in a
worker; TF.js starts its backend), the second has the HTTP cache warm (what a returning user
gets). "Load + first predict" is the median over `--starts` fresh profiles. Then `predict` on
one real MNIST test image, repeated (median ms), and on a batch of 32 (images/s: the first call,
which pays for growing buffers, and the median of `--repeats / 2` calls after it), from the warm
visit. Predictions are checked against each other (same argmax, max |diff|). Last, the /train
page's time to ready (ms from navigation until Train can be pressed), empty and warm.
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
VISITS = ("empty cache", "warm cache")
# ms since navigation until the /train page says Ready (web/train.js's window.webkeras.ready).
TRAIN_READY_JS = """() => new Promise((resolve) => {
  const poll = () => (window.webkeras && window.webkeras.ready ? resolve(performance.now())
    : setTimeout(poll, 5));
  poll();
})"""
TRAIN_BACKENDS = ("webgpu", "numpy")

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
  const batchTimes = [];
  let all;
  for (let i = 0; i <= repeats / 2; i++) {
    const tb = performance.now();
    all = await model.predict(images, [batch, 28, 28, 1]);
    batchTimes.push(performance.now() - tb);
  }
  return { backend: boot.backend, bootMs: tBoot - t0, loadMs: tLoad - tBoot,
           firstPredictMs: tFirst - tLoad, loadAndFirstMs: tFirst - t0, times, batchTimes,
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
  const batchTimes = [];
  let all;
  for (let i = 0; i <= repeats / 2; i++) {
    const tb = performance.now();
    all = await run(xb);
    batchTimes.push(performance.now() - tb);
  }
  xb.dispose();
  return { backend: tf.getBackend(), bootMs: tBoot - t0, loadMs: tLoad - tBoot,
           firstPredictMs: tFirst - tLoad, loadAndFirstMs: tFirst - t0, times, batchTimes,
           first: Array.from(first), batch: Array.from(all) };
}"""

# The in-tab profile of one batch-1 predict (numpy backend): a WorkerClient of its own, timing
# the worker hop with no Python (an unknown message type, answered with an error at once),
# entering Python (runPythonAsync of "1"; a page-module call), the JS API's predict, and, inside
# the worker, the Python side alone (web/model_api.py's predict, and predict_on_batch).
PROFILE_JS = """async ([url, images, repeats]) => {
  const { WorkerClient } = await import("/static/client.js");
  const webkeras = await import("/webkeras.js");
  await webkeras.init({ backend: "numpy" });
  const model = await webkeras.loadModel(url);
  const client = new WorkerClient();
  await client.boot({ backend: "numpy" });
  // [median, min]: the min is what the call costs when the shared machine leaves it alone.
  const stats = (xs) => (xs.sort((a, b) => a - b), [xs[xs.length >> 1], xs[0]]);
  const time = async (fn) => {
    for (let i = 0; i < 5; i++) await fn();
    const times = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    return stats(times);
  };
  const one = images.slice(0, 784);
  const inside = await webkeras.runPython(`
import time, numpy as np, webkeras_model_api as api
from js import Float32Array
x = np.frombuffer(bytes(${JSON.stringify(Array.from(new Uint8Array(one.buffer)))}), np.float32)
model = models[${model.id}]
def clock(fn, n=${repeats}):
    for _ in range(5): fn()
    times = []
    for _ in range(n):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return [sorted(times)[n // 2] * 1e3, min(times) * 1e3]
data = Float32Array.new(x.size)
data.assign(x)
spec = '[{"kind": "Float32Array", "shape": [1, 28, 28, 1]}]'
[clock(lambda: model.predict_on_batch(x.reshape(1, 28, 28, 1))),
 clock(lambda: api.predict(${model.id}, spec, data))]`);
  return {
    hop: await time(() => client.request("no-such-message").catch(() => {})),
    runPython1: await time(() => client.request("python", { code: "1" })),
    pageCall: await time(() => client.request("call", { module: "model_api", func: "dispose",
                                                        args: [-1] })),
    predict: await time(() => model.predict(one, [1, 28, 28, 1])),
    apiPredictInPython: inside[1],
    predictOnBatch: inside[0],
  };
}"""
PROFILE_ROWS = (
    ("hop", "worker hop, no Python (page -> worker -> page)"),
    ("runPython1", "… + runPythonAsync(\"1\") (a separate worker)"),
    ("pageCall", "… + a web/*.py call (callPromising, a separate worker)"),
    ("predict", "JS API predict, batch 1 (page -> worker -> page)"),
    ("apiPredictInPython", "… of which model_api.predict in Python (conversions + model)"),
    ("predictOnBatch", "… of which model.predict_on_batch"),
)

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
    """One fresh profile, VISITS in turn: {visit name: result}."""
    code = WEBKERAS_JS if kind == "webkeras" else TFJS_JS
    results = {}
    with fresh_page(playwright, url, "/") as page:
        for visit in VISITS:
            if visit != VISITS[0]:
                page.goto(url + "/")
            if kind == "tfjs":
                add_tfjs(page)
            results[visit] = page.evaluate(
                f"async (args) => {{ args[2] = new Float32Array(args[2]); "
                f"return ({code})(args); }}", [MODEL_URL, backend, images, repeats, BATCH])
    return results


def train_ready(playwright, url, backend):
    """/train's time to ready (ms) for each of VISITS, in one fresh profile."""
    path = f"/train?backend={backend}"
    results = {}
    with fresh_page(playwright, url, path) as page:
        for visit in VISITS:
            if visit != VISITS[0]:
                page.goto(url + path)
            results[visit] = page.evaluate(TRAIN_READY_JS)
    return results


def median_of(runs, visit, key):
    values = [run[visit][key] for run in runs if "error" not in run]
    return statistics.median(values) if values else None


def measure(starts, repeats, images, backends, train_backends):
    """{contender: [per-start result]}, {/train backend: [per-start result]}: the contenders
    on `backends` (webgpu, numpy, wasm) and /train on `train_backends`."""
    chosen = [c for c in CONTENDERS if c[2] in backends]
    contenders = {name: [] for name, _, _ in chosen}
    train = {backend: [] for backend in train_backends}
    with browser_session() as (playwright, url):
        for start in range(starts):
            for name, kind, backend in chosen:
                print(f"  {name} ({start + 1}/{starts})…", file=sys.stderr, flush=True)
                contenders[name].append(attempt(run_contender, playwright, url, kind, backend,
                                                images, repeats))
            for backend in train_backends:
                print(f"  /train {backend} ({start + 1}/{starts})…", file=sys.stderr, flush=True)
                train[backend].append(attempt(train_ready, playwright, url, backend))
    return contenders, train


def profile(repeats, images):
    """The in-tab profile of a batch-1 predict: {PROFILE_ROWS key: [median, min] ms}."""
    with browser_session() as (playwright, url), fresh_page(playwright, url, "/") as page:
        return page.evaluate(f"async (args) => {{ args[1] = new Float32Array(args[1]); "
                             f"return ({PROFILE_JS})(args); }}", [MODEL_URL, images, repeats])


def print_profile(result, repeats):
    print(f"\nIn-tab profile, batch-1 predict on the numpy backend (ms over {repeats} calls; "
          "timer resolution 5 us)\n")
    print("| step | median | min |")
    print("|---|---:|---:|")
    for key, label in PROFILE_ROWS:
        print(f"| {label} | {result[key][0]:.3f} | {result[key][1]:.3f} |")


def one_line(text):
    """An error (a traceback, often) as one table cell."""
    return " ".join(str(text).split()).replace("|", "/")


def ms(value):
    return "–" if value is None else f"{value:.0f}"


def ratio(value, peer):
    return "" if value is None or not peer else f"{value / peer:.2f}×"


def print_startup(contenders, starts):
    # Each webkeras backend against the TF.js backend of its kind (GPU, CPU).
    peers = {"webgpu": "TF.js 4.22 webgpu", "numpy": "TF.js 4.22 wasm",
             "wasm": "TF.js 4.22 wasm"}
    print(f"\nJS API load + first predict (ms, median of {starts} fresh profiles); ratio vs "
          "the TF.js backend of the same kind (webgpu / CPU wasm), lower is faster\n")
    print("| contender | empty cache | warm cache | of which boot (warm) | vs TF.js, empty | "
          "vs TF.js, warm | errors |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, _, backend in CONTENDERS:
        if name not in contenders:
            continue
        runs = contenders[name]
        peer = contenders.get(peers[backend], [])
        cold, warm = (median_of(runs, visit, "loadAndFirstMs") for visit in VISITS)
        errors = "; ".join(one_line(run["error"]) for run in runs if "error" in run)
        print(f"| {name} | {ms(cold)} | {ms(warm)} | {ms(median_of(runs, VISITS[1], 'bootMs'))}"
              f" | {ratio(cold, median_of(peer, VISITS[0], 'loadAndFirstMs'))}"
              f" | {ratio(warm, median_of(peer, VISITS[1], 'loadAndFirstMs'))} | {errors} |")


def print_train_ready(train, starts):
    print(f"\n/train time to ready (ms from navigation until Train can be pressed, median of "
          f"{starts} fresh profiles)\n")
    print("| page | empty cache | warm cache |")
    print("|---|---:|---:|")
    for backend, runs in train.items():
        values = [[run[visit] for run in runs if "error" not in run] for visit in VISITS]
        cells = [ms(statistics.median(v)) if v else "error" for v in values]
        print(f"| /train?backend={backend} | {cells[0]} | {cells[1]} |")


def print_predict(contenders, repeats):
    warm = {name: next((run[VISITS[1]] for run in runs if "error" not in run),
                       runs[0]) for name, runs in contenders.items()}
    # The reference outputs: TF.js webgpu's, or wasm's when webgpu was not run.
    peer = warm.get("TF.js 4.22 webgpu") or warm.get("TF.js 4.22 wasm", {})
    reference = np.asarray(peer.get("batch", []), np.float32).reshape(-1, 10)

    def speeds(result):
        """(batch-1 ms, batch-32 images/s on the first call, and the median after it)."""
        if "error" in result:
            return None
        first, *rest = result["batchTimes"]
        return (statistics.median(result["times"]), BATCH / first * 1000,
                BATCH / statistics.median(rest or [first]) * 1000)

    # Each webkeras backend against the TF.js backend of its kind, as in the start-up table.
    peers = {"webgpu": "TF.js 4.22 webgpu", "numpy": "TF.js 4.22 wasm",
             "wasm": "TF.js 4.22 wasm"}
    print(f"\nMNIST CNN predict (warm visit), batch-1 predict repeated {repeats}x, "
          f"batch {BATCH} once then {repeats // 2}x more (median); ratios vs the "
          "TF.js backend of the same kind (webgpu / CPU wasm): batch-1 time (lower is faster), "
          "batch-32 throughput (higher is faster)\n")
    print("| contender | backend | predict ms (batch 1, median) | images/s (batch 32, first) | "
          "images/s (batch 32, median after) | vs TF.js, batch 1 | vs TF.js, batch 32 | "
          "max abs diff vs TF.js |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name, _, backend in CONTENDERS:
        if name not in warm:
            continue
        r = warm[name]
        if "error" in r:
            print(f"| {name} | – | error: {one_line(r['error'])} | | | | | |")
            continue
        mine, theirs = speeds(r), speeds(warm.get(peers[backend], {"error": ""}))
        vs_one = ratio(mine[0], theirs and theirs[0])
        vs_batch = ratio(mine[2], theirs and theirs[2])
        diff = ""
        batch = np.asarray(r["batch"], np.float32).reshape(-1, 10)
        if reference.size:
            same = (batch.argmax(1) == reference.argmax(1)).mean()
            diff = f"{np.abs(batch - reference).max():.1e} (argmax agree {same:.0%})"
        print(f"| {name} | {r['backend']} | {mine[0]:.2f} | {mine[1]:.0f} | {mine[2]:.0f} | "
              f"{vs_one} | {vs_batch} | {diff} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3, help="fresh profiles per contender")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--profile", action="store_true",
                        help="only the in-tab profile of a batch-1 predict (numpy backend)")
    parser.add_argument("--backends", default="webgpu,numpy,wasm",
                        help="contenders to run, by backend (comma-separated)")
    parser.add_argument("--train", default=",".join(TRAIN_BACKENDS),
                        help="/train pages to time, by backend (comma-separated; '' for none)")
    args = parser.parse_args()
    models = default_build_dir() / "models" / "mnist_cnn" / "model.json"
    if not models.is_file():
        sys.exit(f"{models} is missing: run `make setup`")
    if args.profile:
        print_profile(profile(args.repeats, mnist_images()), args.repeats)
        return
    contenders, train = measure(args.starts, args.repeats, mnist_images(),
                                args.backends.split(","), [b for b in args.train.split(",") if b])
    print(f"MNIST CNN ({models.parent.name}) in headless Chromium, webkeras vs TF.js 4.22")
    print_startup(contenders, args.starts)
    if train:
        print_train_ready(train, args.starts)
    print_predict(contenders, args.repeats)
    if args.json:
        def lean(run):
            return {visit: {k: v for k, v in result.items() if k not in ("first", "batch")}
                    if isinstance(result, dict) else result for visit, result in run.items()}
        Path(args.json).write_text(json.dumps(
            {"contenders": {k: [lean(r) for r in v] for k, v in contenders.items()},
             "train": train}, indent=1))

if __name__ == "__main__":
    main()
