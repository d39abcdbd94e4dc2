// The webkeras worker: owns Pyodide and the GPUDevice, so the page never freezes.
//
// Page -> worker messages:
//   {type: "boot", backend}            load Pyodide, numpy, webkeras (+ a GPUDevice for webgpu;
//                                      "auto": webgpu when the browser has an adapter, else numpy)
//   {type: "train", params}            run web/train_mnist.py's run(params)
//   {type: "stop"}                     ask the running training to stop at the next batch
//   {type: "python", id, code}         run Python (runPythonAsync); reply "python-result"
//   {type: "read-file", id, path}      the bytes of a file in Pyodide's filesystem (e.g. a model
//                                      Python saved); reply "file" {id, bytes} or {id, error}
//   {type: "load-model", id, url}      fetch a TF.js model.json + shards (or a .keras / .h5 file)
//                                      into Pyodide's FS and load it (web/model_api.py); replies
//                                      "model-progress" {id, stage, loaded, total} as it goes, then
//                                      "model" {id, inputs, outputs} or {id, error}
//   {type: "predict", id, model, inputs: [{data, shape}]}
//                                      reply "prediction" {id, outputs: [{data, shape}]} or {id, error}
//   {type: "dispose-model", model}     forget a loaded model
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
  let gpu = backend === "webgpu" || backend === "auto" ? requestGPU() : null;
  if (backend === "auto") gpu = gpu.catch((error) => (console.info(error.message), null));
  const runtime = fetchJSON("/api/runtime");
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
  const granted = gpu && (bootProgress("gpu", 75, "Requesting a WebGPU device…"), await gpu);
  if (backend === "auto") backend = granted ? "webgpu" : "numpy";
  if (granted) {
    const { adapter, device } = granted;
    device.lost.then((info) => {
      if (info.reason === "destroyed") return;
      post("error", { message: `WebGPU device lost: ${info.message}` });
    });
    self.webkerasGPU = new GPUBridge(adapter, device, () => pyodide._module.HEAPU8);
    mark("gpu");
  }
  bootProgress("import", 85, "Importing webkeras…");
  await pyodide.runPythonAsync("import webkeras");
  self.webkerasBackend = backend; // what model_api uses (train_mnist.py takes it from params)
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

// The pages' Python files (web/*.py), written into Pyodide's FS on first use as
// `webkeras_<name>` modules.
const pageModules = new Map();
function pageModule(name) {
  if (!pageModules.has(name)) {
    const loaded = fetch(`/static/${name}.py`).then(async (response) => {
      if (!response.ok) throw new Error(`GET /static/${name}.py -> ${response.status}`);
      pyodide.FS.writeFile(`/home/pyodide/webkeras_${name}.py`, await response.text());
    });
    loaded.catch(() => pageModules.delete(name));
    pageModules.set(name, loaded);
  }
  return pageModules.get(name);
}

async function train(params) {
  await pageModule("train_mnist");
  self.webkerasStopRequested = false;
  self.webkerasParams = params;
  await pyodide.runPythonAsync(
    "import js, webkeras_train_mnist\nwebkeras_train_mnist.run(js.webkerasParams.to_py())",
    { filename: "<train>" },
  );
}

// -- models for the JS API (web/webkeras.js) ----------------------------------------------
const MODELS_DIR = "/home/pyodide/models";
let apiQueue = Promise.resolve(); // one Python call at a time, in arrival order

function serially(fn) {
  const run = apiQueue.then(async () => {
    await booting;
    return fn();
  });
  apiQueue = run.catch(() => {});
  return run;
}

async function fetchOK(url) {
  const response = await fetch(url);
  if (!response.ok) {
    let message = await response.text();
    try {
      message = JSON.parse(message).message || message;
    } catch {}
    throw new Error(`GET ${url} -> HTTP ${response.status}: ${message.slice(0, 300)}`);
  }
  return response;
}

/** The body as bytes, calling progress(bytesSoFar) as chunks arrive. */
async function readBody(response, progress) {
  const chunks = [];
  let size = 0;
  for (const reader = response.body.getReader(); ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    progress(size);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) bytes.set(chunk, offset), (offset += chunk.length);
  return bytes;
}

/** Shard paths from model.json, refused when they would leave the model's folder. */
function shardPaths(modelJson, url) {
  let artifact;
  try {
    artifact = JSON.parse(new TextDecoder().decode(modelJson));
  } catch (error) {
    throw new Error(`${url} is not valid JSON: ${error.message}`);
  }
  const groups = artifact && artifact.weightsManifest;
  if (!Array.isArray(groups)) {
    throw new Error(`${url}: no "weightsManifest" list; expected a TF.js layers model.json.`);
  }
  const paths = groups.flatMap((group) => group.paths || []);
  for (const path of paths) {
    if (typeof path !== "string" || path.startsWith("/") || path.split("/").includes("..")) {
      throw new Error(`${url}: weight shard path ${JSON.stringify(path)} leaves the model's folder.`);
    }
  }
  return paths;
}

/**
 * Downloads a model's files (model.json and its shards, or one .keras / .h5 file) as
 * [[relative path, bytes]], main file first. Needs no Pyodide: it runs while the runtime boots.
 */
async function downloadModel(id, url) {
  const modelURL = new URL(url, ORIGIN);
  const progress = (stage, loaded, total) => post("model-progress", { id, stage, loaded, total });
  const name = decodeURIComponent(modelURL.pathname.split("/").pop()) || "model.json";
  const first = await fetchOK(modelURL);
  const firstTotal = Number(first.headers.get("Content-Length")) || 0;
  const firstBytes = await readBody(first, (n) => progress("download", n, firstTotal));
  if (!name.endsWith(".json")) {
    // A single-file model: .keras, .h5
    if (!/\.(keras|h5|hdf5)$/.test(name)) {
      throw new Error(`${url}: expected a TF.js model.json, a .keras or an .h5 file.`);
    }
    return [[name, firstBytes]];
  }
  const paths = shardPaths(firstBytes, url);
  // Start every shard at once; progress counts the bytes of all of them.
  const loaded = new Array(paths.length).fill(0);
  const sizes = new Array(paths.length).fill(0);
  const done = firstBytes.length;
  const report = () => {
    const total = sizes.every(Boolean) ? done + sizes.reduce((a, b) => a + b, 0) : 0;
    progress("download", done + loaded.reduce((a, b) => a + b, 0), total);
  };
  const shards = await Promise.all(paths.map(async (path, i) => {
    const response = await fetchOK(new URL(path, modelURL));
    sizes[i] = Number(response.headers.get("Content-Length")) || 0;
    return readBody(response, (n) => ((loaded[i] = n), report()));
  }));
  return [["model.json", firstBytes], ...paths.map((path, i) => [path, shards[i]])];
}

/** Writes downloaded files into Pyodide's FS; returns the path of the main one. */
function writeModel(id, files) {
  const dir = `${MODELS_DIR}/${id}`;
  for (const [path, bytes] of files) {
    const parts = path.split("/");
    pyodide.FS.mkdirTree([dir, ...parts.slice(0, -1)].join("/"));
    pyodide.FS.writeFile(`${dir}/${path}`, bytes);
  }
  return `${dir}/${files[0][0]}`;
}

async function loadModel(id, url) {
  try {
    const files = await downloadModel(id, url); // while the runtime boots
    await booting;
    const path = writeModel(id, files);
    const info = await serially(async () => {
      await pageModule("model_api");
      post("model-progress", { id, stage: "build", loaded: 0, total: 0 });
      self.webkerasRequest = { id, path };
      const result = await pyodide.runPythonAsync(
        "import js, webkeras_model_api\n" +
          "webkeras_model_api.load(js.webkerasRequest.id, js.webkerasRequest.path)",
        { filename: "<load-model>" },
      );
      return JSON.parse(result);
    });
    post("model", { id, ...info });
  } catch (error) {
    post("model", { id, error: errorText(error) });
  }
}

async function predict(id, model, inputs) {
  try {
    const outputs = await serially(async () => {
      self.webkerasRequest = { model, inputs };
      const result = await pyodide.runPythonAsync(
        "import js, webkeras_model_api\n" +
          "webkeras_model_api.predict(js.webkerasRequest.model, js.webkerasRequest.inputs)",
        { filename: "<predict>" },
      );
      const converted = result.toJs({ dict_converter: Object.fromEntries });
      result.destroy();
      return converted;
    });
    self.postMessage({ type: "prediction", id, outputs }, outputs.map((o) => o.data.buffer));
  } catch (error) {
    post("prediction", { id, error: errorText(error) });
  }
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
    case "load-model":
      loadModel(message.id, message.url);
      break;
    case "predict":
      predict(message.id, message.model, message.inputs);
      break;
    case "dispose-model":
      serially(() => pyodide.runPythonAsync(
        `import webkeras_model_api\nwebkeras_model_api.dispose(${JSON.stringify(String(message.model))})`,
      )).catch((error) => console.warn(errorText(error)));
      break;
    default:
      post("error", { message: `worker: unknown message type ${message.type}` });
  }
};
