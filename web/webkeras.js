// webkeras.js: load a Keras model in a web page and predict with it.
//
//   import * as webkeras from "/webkeras.js";
//   const model = await webkeras.loadModel("/models/mnist_cnn/model.json", {
//     onProgress: ({ stage, fraction, text }) => console.log(text),
//   });
//   const y = await model.predict(new Float32Array(28 * 28), [1, 28, 28, 1]);
//   console.log(y.shape, y.data);       // [1, 10], Float32Array(10)
//
// The model runs in Python (webkeras in Pyodide) in a Web Worker, on webkeras's WebGPU
// kernels when the browser has a WebGPU adapter, else on NumPy. URLs may name a TF.js
// layers model.json (shards are fetched beside it), a .keras or an .h5 file.
//
//   const value = await webkeras.runPython(`${model.pythonName}.count_params()`);
//
// runs Python in that same interpreter (`models`, `keras`, `np` in scope).

import { WorkerClient } from "/static/client.js";

let runtime = null; // {client, ready: Promise<{backend, bootSeconds}>, addBootListener}

function describe(error) {
  return error instanceof Error ? error : new Error(String(error));
}

function startRuntime(backend, onProgress) {
  const client = new WorkerClient();
  const bootListeners = onProgress ? [onProgress] : [];
  const ready = client.boot({
    backend,
    onProgress: ({ percent, text }) => {
      const progress = { stage: "runtime", fraction: percent / 100, text };
      for (const listener of bootListeners) listener(progress);
    },
  }).then(
    ({ backend: name, bootSeconds }) => {
      bootListeners.length = 0;
      return { backend: name, bootSeconds };
    },
    (error) => {
      throw new Error(`webkeras: ${error.message}`);
    },
  );
  // After "ready", nothing waits on an error event: show it.
  client.on("error", ({ message }) => console.error("webkeras worker:", message));
  return { client, ready, addBootListener: (fn) => fn && bootListeners.push(fn) };
}

function progressOf({ stage, loaded, total }) {
  if (stage === "build") return { stage, fraction: 1, text: "Building the model…" };
  const mb = (n) => (n / 1e6).toFixed(2);
  const fraction = total ? Math.min(1, loaded / total) : undefined;
  const text = total ? `Downloading weights: ${mb(loaded)} of ${mb(total)} MB`
    : `Downloading weights: ${mb(loaded)} MB`;
  return { stage: "weights", fraction, loaded, total, text };
}

/**
 * Starts the runtime (Pyodide + webkeras in a worker) without loading a model; loadModel
 * does it on first use. backend: "auto" (default: WebGPU when available, else NumPy),
 * "webgpu" or "numpy". Resolves to {backend, bootSeconds}.
 */
export function init({ backend = "auto", onProgress } = {}) {
  if (!runtime) runtime = startRuntime(backend, onProgress);
  else runtime.addBootListener(onProgress);
  return runtime.ready;
}

// The worker refuses a "call" while another runs: the API's calls wait for each other here.
let calls = Promise.resolve();

/** module.func(*args) of web/<module>.py in the worker, after the API's earlier calls. */
function callPython(module, func, args, { onEvent } = {}) {
  const result = calls.then(() =>
    runtime.client.request("call", { module, func, args }, { onEvent }));
  calls = result.catch(() => {});
  return result;
}

/** An error raised by Python: `message` is its traceback; `pythonType` the exception's name. */
export class PythonError extends Error {
  constructor(traceback, pythonType) {
    super(traceback);
    this.name = "PythonError";
    this.pythonType = pythonType;
  }
}

/**
 * Runs Python code in the worker's interpreter, where the models loadModel loaded live: as
 * `models[id]` (`model.pythonName` spells it), with `keras` (webkeras) and `np` imported.
 * Globals persist between calls; top-level `await` works. onOutput(text, stream) receives
 * what the code prints. Resolves to the last expression's value (as JSON when it is JSON-able:
 * NumPy arrays become nested lists; else its repr string; null when there is none); rejects
 * with a PythonError whose message is the traceback.
 */
export async function runPython(code, { onOutput } = {}) {
  if (typeof code !== "string") {
    throw new TypeError(`runPython: expected a string of Python code, received ${typeof code}.`);
  }
  await init();
  const reply = await callPython("model_api", "run_python", [code], {
    onEvent: (event) => event.type === "stdout" && onOutput?.(event.text, event.stream),
  });
  const { value, error, type } = JSON.parse(reply);
  if (error !== undefined) throw new PythonError(error, type);
  return value;
}

// -- inputs ---------------------------------------------------------------------------------
function flatten(nested, shape = [], depth = 0, out = []) {
  if (ArrayBuffer.isView(nested) || Array.isArray(nested)) {
    if (shape.length === depth) shape.push(nested.length);
    else if (shape[depth] !== nested.length) {
      throw new Error(`predict: ragged nested arrays (length ${nested.length} at depth ${depth}, ` +
        `expected ${shape[depth]}).`);
    }
    if (ArrayBuffer.isView(nested)) {
      if (shape.length !== depth + 1) throw new Error("predict: ragged nested arrays.");
      for (const value of nested) out.push(value);
    } else for (const item of nested) flatten(item, shape, depth + 1, out);
  } else if (typeof nested === "number") {
    if (shape.length !== depth) throw new Error("predict: ragged nested arrays.");
    out.push(nested);
  } else {
    throw new TypeError(`predict: expected numbers, typed arrays or nested arrays, received ` +
      `${nested === null ? "null" : typeof nested}.`);
  }
  return out;
}

function toInput(data, shape, spec) {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView) && (shape || !Array.isArray(data))) {
    const typed = data instanceof Float64Array ? new Float32Array(data) : data.slice();
    if (!shape) {
      // A flat typed array: the model's input shape with the batch size it implies.
      const sample = (spec?.shape || []).slice(1);
      if (sample.some((d) => d == null)) {
        throw new Error(`predict: pass a shape; the model's input shape is ` +
          `${JSON.stringify(spec?.shape)}.`);
      }
      const size = sample.reduce((a, b) => a * b, 1);
      if (!size || typed.length % size) {
        throw new Error(`predict: ${typed.length} values are not a whole number of samples of ` +
          `shape ${JSON.stringify(sample)}.`);
      }
      shape = [typed.length / size, ...sample];
    }
    return { data: typed, shape: [...shape] };
  }
  const inferred = [];
  const values = Float32Array.from(flatten(data, inferred));
  return { data: values, shape: shape ? [...shape] : inferred };
}

// -- outputs --------------------------------------------------------------------------------
function nest(data, shape, offset = 0) {
  if (shape.length === 0) return data[offset];
  const [n, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) =>
    rest.length ? nest(data, rest, offset + i * step) : data[offset + i]);
}

/** A prediction: a Float32Array and its shape; array() gives nested JS arrays. */
export class Output {
  constructor(data, shape) {
    this.data = data;
    this.shape = shape;
  }

  array() {
    return nest(this.data, this.shape);
  }
}

/** A loaded model: `predict` runs it in the worker. */
export class Model {
  constructor(id, info) {
    this.id = id;
    this.pythonName = `models[${id}]`; // the model in runPython's code
    this.name = info.name;
    this.inputs = info.inputs;
    this.outputs = info.outputs;
    this.backend = info.backend;
    this.device = info.device;
    this.disposed = false;
  }

  /**
   * predict(data, shape) for a one-input model: data is a typed array (with shape, or the
   * model's input shape is used) or nested arrays (shape inferred). For several inputs pass
   * [[data, shape], ...] (or [data, ...] of nested arrays). Resolves to an Output, or an array
   * of Outputs for a model with several outputs.
   */
  async predict(data, shape) {
    if (this.disposed) throw new Error(`predict: model '${this.name}' was disposed.`);
    let inputs;
    if (this.inputs.length > 1) {
      if (!Array.isArray(data) || data.length !== this.inputs.length) {
        throw new Error(`predict: model '${this.name}' takes ${this.inputs.length} inputs; pass ` +
          `[[data, shape], ...] with one entry per input.`);
      }
      inputs = data.map((item, i) => Array.isArray(item) && item.length === 2 &&
        ArrayBuffer.isView(item[0]) ? toInput(item[0], item[1], this.inputs[i])
        : toInput(item, undefined, this.inputs[i]));
    } else inputs = [toInput(data, shape, this.inputs[0])];
    const reply = await runtime.client.request("predict", { model: this.id, inputs },
      { transfer: inputs.map((input) => input.data.buffer) });
    const outputs = reply.map(({ data: values, shape: dims }) => new Output(values, dims));
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    runtime.client.send("dispose-model", { model: this.id });
  }
}

/**
 * Loads a model from a URL (TF.js model.json, .keras or .h5). options.onProgress receives
 * {stage: "runtime" | "weights" | "build", fraction, text} as the runtime boots, the weights
 * download and the model is built. options.backend applies when this call starts the runtime.
 */
export async function loadModel(url, { onProgress, backend = "auto" } = {}) {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError(`loadModel: expected a URL string, received ${typeof url}.`);
  }
  const ready = init({ backend, onProgress });
  // Sent now: the worker downloads the weights while the runtime boots.
  const absolute = new URL(url, location.href).href;
  const loaded = runtime.client.request("load-model", { url: absolute }, {
    onEvent: (event) => event.type === "model-progress" && onProgress?.(progressOf(event)),
  });
  try {
    await ready;
  } catch (error) {
    runtime = null; // a later call may try again
    loaded.catch(() => {});
    throw describe(error);
  }
  const reply = await loaded;
  const model = new Model(reply.id, reply);
  onProgress?.({ stage: "ready", fraction: 1, text: `Loaded ${model.name}` });
  return model;
}
