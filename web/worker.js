// The webkeras worker: owns Pyodide and the GPUDevice, so the page never freezes.
//
// Page -> worker messages:
//   {type: "boot", backend}            load Pyodide, numpy, webkeras (+ a GPUDevice for webgpu)
//   {type: "train", params}            run web/train_mnist.py's run(params)
//   {type: "stop"}                     ask the running training to stop at the next batch
//   {type: "python", id, code}         run Python (runPythonAsync); reply "python-result"
//   {type: "read-file", id, path}      the bytes of a file in Pyodide's filesystem (e.g. a model
//                                      Python saved); reply "file" {id, bytes} or {id, error}
// Worker -> page: "boot" {stage, percent, text}, "ready", "error" {message}, "dataset"
// {name, loaded, total, source, done} (dataset download progress), and whatever the
// Python side reports through self.webkerasReport(kind, json) ("backend", "train-begin",
// "batch", "epoch", "status", "result").
//
// Python is always entered with runPythonAsync: then pyodide.ffi.run_sync (GPU readback, the
// dataset fetch, yielding to this event loop) can suspend it with JSPI. While Python waits,
// this worker's event loop runs, which is how a "stop" message gets in.

import { loadPyodide } from "/pyodide/pyodide.mjs";
import { GPUBridge, requestGPU } from "./gpu_bridge.js";
import { DatasetCache } from "./dataset_cache.js";

const ORIGIN = self.location.origin;
const PYODIDE_URL = new URL("/pyodide/", ORIGIN).href;

let pyodide = null;
let booting = null;
let busy = false;

const post = (type, payload = {}) => self.postMessage({ type, ...payload });
const bootProgress = (stage, percent, text) => post("boot", { stage, percent, text });

// -- the small API Python sees on the worker's global scope (`import js`) -------------------
self.webkerasStopRequested = false;
self.webkerasReport = (kind, json) => post(kind, JSON.parse(json));
// A promise that resolves after already-queued tasks (e.g. a "stop" message) have run.
self.webkerasYield = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

// -- datasets: webkeras.datasets.fetch loads files through this (Cache Storage + progress) --
self.webkerasDatasets = new DatasetCache(post, () => pyodide.FS);

function errorText(error) {
  // A PythonError's message is the whole traceback text; JS errors get their stack.
  if (error && error.type && error.message) return error.message;
  if (error instanceof Error) return error.stack && !error.stack.includes(error.message)
    ? `${error.message}\n${error.stack}` : error.stack || error.message;
  return String(error);
}

/** loadPackage that fails loudly: it reports hash and fetch failures only via errorCallback. */
async function loadPackages(names) {
  const errors = [];
  await pyodide.loadPackage(names, {
    messageCallback: (message) => console.debug("[pyodide]", message),
    errorCallback: (message) => errors.push(message),
  });
  if (errors.length) {
    throw new Error(`loading ${names.join(", ")} failed:\n${errors.join("\n")}`);
  }
}

async function fetchJSON(path) {
  const response = await fetch(path);
  const body = await response.text();
  if (!response.ok) {
    let message = body;
    try {
      message = JSON.parse(body).message || body;
    } catch {}
    throw new Error(`GET ${path} -> ${response.status}: ${message}`);
  }
  return JSON.parse(body);
}

async function boot(backend) {
  const started = performance.now();
  const stages = {};
  const mark = (stage) => (stages[stage] = Math.round(performance.now() - started));
  // Independent of Pyodide: start them now, await them when needed.
  const gpu = backend === "webgpu" ? requestGPU() : null;
  const runtime = fetchJSON("/api/runtime");
  const script = fetch("/static/train_mnist.py").then((response) => {
    if (!response.ok) throw new Error(`GET /static/train_mnist.py -> ${response.status}`);
    return response.text();
  });
  gpu?.catch(() => {}); // reported below, where it is awaited
  bootProgress("runtime", 5, "Loading the Python runtime (Pyodide)…");
  pyodide = await loadPyodide({ indexURL: PYODIDE_URL });
  mark("pyodide");
  bootProgress("packages", 50, "Loading NumPy and webkeras…");
  const { webkeras_in_lock: inLock, webkeras_wheel: wheel } = await runtime;
  // By name when the lock lists our wheel (sha256-checked), else by URL.
  const wheelURL = new URL(`/pyodide/${wheel}`, ORIGIN).href;
  await loadPackages(["numpy", inLock ? "webkeras" : wheelURL]);
  mark("packages");
  if (gpu) {
    bootProgress("gpu", 75, "Requesting a WebGPU device…");
    const { adapter, device } = await gpu;
    device.lost.then((info) => {
      if (info.reason === "destroyed") return;
      post("error", { message: `WebGPU device lost: ${info.message}` });
    });
    self.webkerasGPU = new GPUBridge(adapter, device, () => pyodide._module.HEAPU8);
    mark("gpu");
  }
  bootProgress("import", 85, "Importing webkeras…");
  pyodide.FS.writeFile("/home/pyodide/webkeras_train_mnist.py", await script);
  await pyodide.runPythonAsync("import webkeras");
  mark("import");
  const seconds = (performance.now() - started) / 1000;
  bootProgress("ready", 100, `Ready (booted in ${seconds.toFixed(1)} s)`);
  post("ready", { bootSeconds: seconds, backend, stages });
}

async function runExclusive(what, fn) {
  if (busy) {
    post("error", { message: `Cannot ${what}: the worker is still busy with the previous run.` });
    return;
  }
  busy = true;
  try {
    await booting;
    await fn();
  } catch (error) {
    post("error", { message: errorText(error) });
  } finally {
    busy = false;
  }
}

async function train(params) {
  self.webkerasStopRequested = false;
  self.webkerasParams = params;
  await pyodide.runPythonAsync(
    "import js, webkeras_train_mnist\nwebkeras_train_mnist.run(js.webkerasParams.to_py())",
    { filename: "<train>" },
  );
}

async function runPython(id, code) {
  let result;
  try {
    await booting;
    const value = await pyodide.runPythonAsync(code);
    result = value && typeof value.toString === "function" ? value.toString() : value;
    if (value && value.destroy) value.destroy();
  } catch (error) {
    post("python-result", { id, error: errorText(error) });
    return;
  }
  post("python-result", { id, result });
}

async function readFile(id, path) {
  try {
    await booting;
    const bytes = pyodide.FS.readFile(path); // a copy, safe to transfer
    self.postMessage({ type: "file", id, path, bytes }, [bytes.buffer]);
  } catch (error) {
    const reason = error && error.errno !== undefined ? `no such file in Pyodide's filesystem` : errorText(error);
    post("file", { id, path, error: `read-file ${path}: ${reason}` });
  }
}

self.onmessage = (event) => {
  const message = event.data;
  switch (message.type) {
    case "boot":
      booting = boot(message.backend || "webgpu").catch((error) => {
        post("error", { message: `Boot failed: ${errorText(error)}` });
        throw error;
      });
      break;
    case "train":
      runExclusive("train", () => train(message.params));
      break;
    case "stop":
      self.webkerasStopRequested = true;
      break;
    case "python":
      runPython(message.id, message.code);
      break;
    case "read-file":
      readFile(message.id, message.path);
      break;
    default:
      post("error", { message: `worker: unknown message type ${message.type}` });
  }
};
