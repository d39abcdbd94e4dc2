// The webkeras worker: an interpreter service that owns Pyodide and the GPUDevice, so the page
// never freezes. Pages talk to it through web/client.js.
//
// Page -> worker: {type, id, ...arguments}. Every message with an id gets exactly one reply,
// {type: "reply", id, value} or {type: "reply", id, error}; progress comes as events.
//   boot {backend, interruptBuffer?}   load Pyodide, numpy, webkeras (+ a GPUDevice for webgpu;
//                                      "auto": webgpu when the browser has an adapter, else
//                                      numpy). interruptBuffer: an Int32Array on a
//                                      SharedArrayBuffer (cross-origin-isolated pages only); the
//                                      page writes 2 into it to raise KeyboardInterrupt.
//   run {id, code, filename}           run user code (web/workbench_runtime.py): `keras` and
//                                      `tensorflow` resolve to webkeras, every fit streams its
//                                      logs. value: {ok, value, error, line, ...}
//   stop                               stop a running fit at its next batch
//   call {id, module, func, args}      module.func(*args) of a page module (web/<module>.py)
//   python {id, code}                  runPythonAsync(code); value: str(result) (tests, console)
//   read-file {id, path}               value: the bytes (transferred)
//   write-file {id, path, bytes}       into Pyodide's filesystem (relative: the working dir)
//   list-files {id}                    value: [{path, size, mtime}] under the working dir
//   delete-file {id, path}
//   load-model {id, url}               fetch a model (TF.js model.json + shards, .keras, .h5)
//                                      while the runtime boots, then load it (web/model_api.py);
//                                      events "model-progress" {id, stage, loaded, total}
//   predict {id, model, inputs}        value: [{data, shape}] (buffers transferred)
//   dispose-model {model}
// Worker -> page events: "boot" {stage, percent, text}, "ready" {backend, bootSeconds, stages,
// snapshot (restored from the boot snapshot, web/boot_snapshot.js), bytecode (the packages
// whose precompiled bytecode was used)},
// "error" {message}, "stdout" {id, stream, text}, "dataset" {name, loaded, total, source, done},
// and what Python reports through the `webkeras_worker` module (below): "backend", "fit-begin",
// "batch", "epoch", "fit-end", "status", "saved", ...
//
// Python is always entered with runPythonAsync or callPromising: then pyodide.ffi.run_sync (GPU
// readback, the dataset fetch, yielding to this event loop) can suspend it with JSPI. While
// Python waits, this worker's event loop runs, which is how a "stop" message gets in.

import { installBytecode, startBootDownloads, startInterpreter } from "./boot_snapshot.js";
import { GPUBridge } from "./gpu_bridge.js";
import { requestGPU, startWarmPipelines } from "./gpu_device.js";
import { DatasetCache } from "./dataset_cache.js";
import { downloadModel } from "./model_files.js";

const ORIGIN = self.location.origin;
const PYODIDE_URL = new URL("/pyodide/", ORIGIN).href;
const HOME = "/home/pyodide"; // the working directory user code sees
const PAGE_MODULES_DIR = "/webkeras_pages"; // web/*.py, outside the user's files
const MODELS_DIR = "/tmp/webkeras_models"; // models the JS API loaded
const OUTPUT_FLUSH_MS = 50;

let pyodide = null;
let booting = null;
let bootBackend = null;
let busy = false;
let stopRequested = false;
let currentRun = null; // id of the request whose output stdout/stderr belong to

const post = (type, payload = {}) => self.postMessage({ type, ...payload });
const bootProgress = (stage, percent, text) => post("boot", { stage, percent, text });

/** A promise that resolves after already-queued tasks (e.g. a "stop" message) have run. */
const pause = () =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

// -- what Python sees as `import webkeras_worker` -------------------------------------------
const pythonAPI = {
  report: (kind, json) => post(kind, { ...JSON.parse(json), id: currentRun }),
  pause,
  stopRequested: () => stopRequested,
  backend: () => bootBackend,
};

// The library reads these two from the worker's global scope (browser_driver.py, fetch.py).
self.webkerasDatasets = new DatasetCache(post, () => pyodide.FS);

function errorText(error) {
  // A PythonError's message is the whole traceback text; JS errors get their stack.
  if (error && error.type && error.message) return error.message;
  if (error instanceof Error) return error.stack && !error.stack.includes(error.message)
    ? `${error.message}\n${error.stack}` : error.stack || error.message;
  return String(error);
}

// -- stdout / stderr: streamed to the page in small batches ---------------------------------
const output = { chunks: [], last: 0, timer: null };

function flushOutput() {
  clearTimeout(output.timer);
  output.timer = null;
  output.last = performance.now();
  for (const { stream, text } of output.chunks.splice(0)) {
    post("stdout", { id: currentRun, stream, text });
  }
}

function writer(stream) {
  const decoder = new TextDecoder();
  return {
    // A terminal: the progress bar redraws its line with "\r" instead of printing a new one.
    isatty: true,
    write(buffer) {
      const text = decoder.decode(buffer, { stream: true });
      const last = output.chunks[output.chunks.length - 1];
      if (last && last.stream === stream) last.text += text;
      else output.chunks.push({ stream, text });
      // Posted from here while Python runs (a plain loop never yields), else by the timer.
      if (performance.now() - output.last >= OUTPUT_FLUSH_MS) flushOutput();
      else output.timer ??= setTimeout(flushOutput, OUTPUT_FLUSH_MS);
      return buffer.length;
    },
  };
}

// -- boot -----------------------------------------------------------------------------------
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

async function boot({ backend = "webgpu", interruptBuffer = null }) {
  const started = performance.now();
  const stages = {};
  const mark = (stage) => (stages[stage] = Math.round(performance.now() - started));
  // Independent of Pyodide: start them now, await them when needed.
  let gpu = backend === "webgpu" || backend === "auto" ? requestGPU() : null;
  let noGPU = null; // why "auto" runs on NumPy, for the page to say
  if (backend === "auto") gpu = gpu.catch((error) => ((noGPU = error.message), null));
  const runtime = fetchJSON("/api/runtime");
  const downloads = startBootDownloads(PYODIDE_URL);
  gpu?.catch(() => {}); // reported below, where it is awaited
  // The last session's pipelines compile while Pyodide boots (gpu_device.js's warm start).
  const warmPipelines = gpu?.then((granted) => granted &&
    startWarmPipelines(granted.adapter, granted.device)).catch(() => null);
  bootProgress("runtime", 5, "Loading the Python runtime (Pyodide)…");
  const interpreter = await startInterpreter(PYODIDE_URL, downloads);
  if (interpreter.note) console.info(`webkeras: ${interpreter.note}; booted normally.`);
  pyodide = interpreter.pyodide;
  pyodide.setStdout(writer("stdout"));
  pyodide.setStderr(writer("stderr"));
  if (interruptBuffer) pyodide.setInterruptBuffer(interruptBuffer);
  pyodide.registerJsModule("webkeras_worker", pythonAPI);
  pyodide.FS.mkdirTree(PAGE_MODULES_DIR);
  mark("pyodide");
  bootProgress("packages", 50, "Loading NumPy and webkeras…");
  const { webkeras_in_lock: inLock, webkeras_wheel: wheel } = await runtime;
  // By name when the lock lists our wheel (sha256-checked), else by URL.
  const wheelURL = new URL(`/pyodide/${wheel}`, ORIGIN).href;
  await loadPackages(["numpy", inLock ? "webkeras" : wheelURL]);
  mark("packages");
  const bytecode = await installBytecode(pyodide, downloads);
  for (const note of bytecode.notes) console.info(`webkeras: ${note}; Python compiles it.`);
  mark("bytecode");
  const granted = gpu && (bootProgress("gpu", 75, "Requesting a WebGPU device…"), await gpu);
  if (backend === "auto") backend = granted ? "webgpu" : "numpy";
  if (granted) {
    const { adapter, device } = granted;
    // The worker never destroys its device: any loss (driver reset, GPU process crash, code
    // that called destroy()) leaves the WebGPU backend without a device. The page decides how
    // to go on (the workbench restarts on NumPy, the JS API's next call does).
    device.lost.then((info) => post("device-lost", {
      message: `The WebGPU device was lost (${info.reason || "unknown"}` +
        `${info.message ? `: ${info.message}` : ""}).`,
    }));
    self.webkerasGPU = new GPUBridge(adapter, device, () => pyodide._module.HEAPU8);
    self.webkerasGPU.adoptWarmPipelines(await warmPipelines);
    mark("gpu");
  }
  bootProgress("import", 85, "Importing webkeras…");
  await pyodide.runPythonAsync(
    `import sys, webkeras\nsys.path.insert(0, ${JSON.stringify(PAGE_MODULES_DIR)})`);
  bootBackend = backend;
  mark("import");
  const seconds = (performance.now() - started) / 1000;
  bootProgress("ready", 100, `Ready (booted in ${seconds.toFixed(1)} s)`);
  post("ready", { bootSeconds: seconds, backend, stages,
    interruptible: Boolean(interruptBuffer), snapshot: interpreter.snapshot, noGPU,
    bytecode: bytecode.packages });
}

// -- entering Python ------------------------------------------------------------------------
let queue = Promise.resolve(); // one Python call at a time, in arrival order

function serially(fn) {
  const run = queue.then(async () => {
    await booting;
    return fn();
  });
  queue = run.catch(() => {});
  return run;
}

/** A run of user or page code: refused while another one runs; output is tagged with `id`. */
async function exclusive(id, what, fn) {
  if (busy) throw new Error(`Cannot ${what}: the worker is still busy with the previous run.`);
  busy = true;
  try {
    return await serially(async () => {
      stopRequested = false;
      currentRun = id;
      try {
        return await fn();
      } finally {
        flushOutput();
        currentRun = null;
      }
    });
  } finally {
    busy = false;
  }
}

// The pages' Python files (web/<name>.py), written into PAGE_MODULES_DIR on first use as
// `webkeras_<name>` modules.
const pageModules = new Map();
function pageModule(name) {
  if (!/^[a-z_]+$/.test(name)) return Promise.reject(new Error(`bad page module ${name}`));
  if (!pageModules.has(name)) {
    const loaded = fetch(`/static/${name}.py`).then(async (response) => {
      if (!response.ok) throw new Error(`GET /static/${name}.py -> ${response.status}`);
      pyodide.FS.writeFile(`${PAGE_MODULES_DIR}/webkeras_${name}.py`, await response.text());
    });
    loaded.catch(() => pageModules.delete(name));
    pageModules.set(name, loaded);
  }
  return pageModules.get(name);
}

/** Python proxies become plain JS (dicts as objects); the proxy is freed. */
function toJS(value) {
  if (!value || typeof value.toJs !== "function") return value;
  try {
    return value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
  } finally {
    value.destroy();
  }
}

/** module.func(*args) of web/<module>.py, entered with callPromising (run_sync works). */
async function callPython(module, func, args = []) {
  await pageModule(module);
  const mod = pyodide.pyimport(`webkeras_${module}`);
  // An attribute proxy is borrowed from its module's proxy: free them together, after the call.
  const fn = mod[func];
  try {
    if (!fn || typeof fn.callPromising !== "function") {
      throw new Error(`web/${module}.py has no function ${func}`);
    }
    return toJS(await fn.callPromising(...args));
  } finally {
    fn?.destroy?.();
    mod.destroy();
  }
}

// -- files ----------------------------------------------------------------------------------
const resolvePath = (path) => (String(path).startsWith("/") ? String(path) : `${HOME}/${path}`);

function listFiles(dir = HOME, prefix = "") {
  const FS = pyodide.FS;
  const files = [];
  for (const name of FS.readdir(dir)) {
    if (name.startsWith(".") || name === "__pycache__") continue;
    const path = `${dir}/${name}`;
    const stat = FS.stat(path);
    if (FS.isDir(stat.mode)) files.push(...listFiles(path, `${prefix}${name}/`));
    else files.push({ path: `${prefix}${name}`, size: stat.size, mtime: stat.mtime.getTime() });
  }
  return files;
}

function writeFile(path, bytes) {
  const full = resolvePath(path);
  if (full.split("/").includes("..")) throw new Error(`write-file: ${path} leaves the folder`);
  pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")) || "/");
  pyodide.FS.writeFile(full, bytes);
  return full;
}

function readFile(path) {
  try {
    return pyodide.FS.readFile(resolvePath(path)); // a copy, safe to transfer
  } catch (error) {
    if (error && error.errno !== undefined) {
      throw new Error(`read-file ${path}: no such file in Pyodide's filesystem`);
    }
    throw error;
  }
}

// -- models for the JS API (web/webkeras.js) ----------------------------------------------
async function loadModel(id, url) {
  const progress = (stage, loaded, total) => post("model-progress", { id, stage, loaded, total });
  const files = await downloadModel(url, progress); // while the runtime boots
  await booting;
  const dir = `${MODELS_DIR}/${id}`;
  for (const [path, bytes] of files) writeFile(`${dir}/${path}`, bytes);
  return serially(async () => {
    progress("build", 0, 0);
    const info = await callPython("model_api", "load", [id, `${dir}/${files[0][0]}`,
      bootBackend]);
    return { id, ...JSON.parse(info) };
  });
}

// web/model_api.py's predict, looked up once (with its module): a predict is one call.
let modelAPI = null;
let predictFunction = null;

/** model_api.predict on the transferred inputs; the outputs' buffers are transferred back. */
async function predict(model, inputs) {
  if (!predictFunction) {
    await pageModule("model_api");
    modelAPI ??= pyodide.pyimport("webkeras_model_api");
    predictFunction ??= modelAPI.predict;
  }
  const spec = JSON.stringify(inputs.map(({ data, shape }) =>
    ({ kind: data.constructor.name, shape })));
  const outputs = await predictFunction.callPromising(model, spec,
    ...inputs.map((input) => input.data));
  return withTransfer(outputs, outputs.map((output) => output.data.buffer));
}

// -- messages -------------------------------------------------------------------------------
// Each handler takes the message and returns the reply's value (or a promise of it); a value
// {value, transfer} from `withTransfer` moves buffers instead of copying them.
const withTransfer = (value, transfer) => ({ [TRANSFER]: true, value, transfer });
const TRANSFER = Symbol("transfer");
const ready = async (fn) => (await booting, fn());

const handlers = {
  boot(message) {
    booting = boot(message);
    booting.catch((error) => post("error", { message: `Boot failed: ${errorText(error)}` }));
  },
  stop() {
    stopRequested = true;
  },
  run: ({ id, code, filename = "<editor>" }) =>
    exclusive(id, "run", () => callPython("workbench_runtime", "run", [code, filename])),
  call: ({ id, module, func, args = [] }) =>
    exclusive(id, `call ${module}.${func}`, () => callPython(module, func, args)),
  python: ({ code }) =>
    serially(async () => {
      const value = await pyodide.runPythonAsync(code);
      const result = value && typeof value.toString === "function" ? value.toString() : value;
      if (value && value.destroy) value.destroy();
      return result;
    }),
  "read-file": ({ path }) => ready(() => {
    const bytes = readFile(path);
    return withTransfer(bytes, [bytes.buffer]);
  }),
  "write-file": ({ path, bytes }) => ready(() => writeFile(path, bytes)),
  "list-files": () => ready(() => listFiles()),
  "delete-file": ({ path }) => ready(() => pyodide.FS.unlink(resolvePath(path))),
  "load-model": ({ id, url }) => loadModel(id, url),
  predict: ({ model, inputs }) => serially(() => predict(model, inputs)),
  "dispose-model": ({ model }) =>
    serially(() => callPython("model_api", "dispose", [String(model)])),
};

self.onmessage = async ({ data: message }) => {
  const handler = handlers[message.type];
  const { id } = message;
  if (!handler) {
    const error = `worker: unknown message type ${message.type}`;
    if (id !== undefined) post("reply", { id, error });
    else post("error", { message: error });
    return;
  }
  try {
    const result = await handler(message);
    if (id === undefined) return;
    if (result && result[TRANSFER]) {
      self.postMessage({ type: "reply", id, value: result.value }, result.transfer);
    } else post("reply", { id, value: result });
  } catch (error) {
    if (id !== undefined) post("reply", { id, error: errorText(error) });
    else console.warn(errorText(error));
  }
};
