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
// layers model.json (shards are fetched beside it), a .keras or an .h5 file. On NumPy, a model
// whose traced predict is all WASM kernel calls predicts on this page's thread instead
// (web/cpu_replay.js), after the first call.
//
//   const value = await webkeras.runPython(`${model.pythonName}.count_params()`);
//
// runs Python in that same interpreter (`models`, `keras`, `np` in scope).

import { WorkerClient } from "/static/client.js";
import { createCpuReplay } from "/static/cpu_replay.js";

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
  client.on("device-lost", ({ message }) => console.error(`webkeras: ${message} Calls on ` +
    "the WebGPU backend fail from now on; reload, or init({backend: \"numpy\"}) in a new page."));
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
// Counts the calls into the worker that may change a model's weights (all but these): a
// page-thread predict asks the worker whether its weights version still holds when it moved.
const READ_ONLY_CALLS = new Set(["export_plan", "get_weights", "summary", "save"]);
let workerCalls = 0;

/** module.func(*args) of web/<module>.py in the worker, after the API's earlier calls. */
function callPython(module, func, args, { onEvent, transfer } = {}) {
  if (!READ_ONLY_CALLS.has(func)) workerCalls += 1;
  const result = calls.then(() =>
    runtime.client.request("call", { module, func, args }, { onEvent, transfer }));
  calls = result.catch(() => {});
  return result;
}

/**
 * An error raised in Python: `pythonType` is the exception's class name and `traceback` its
 * traceback. The message: the traceback for runPython, Keras's message for a model's methods.
 */
export class PythonError extends Error {
  constructor(message, pythonType, traceback = message) {
    super(message);
    this.name = "PythonError";
    this.pythonType = pythonType;
    this.traceback = traceback;
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
function flatten(nested, what, shape = [], depth = 0, out = []) {
  const ragged = (detail = "") => new Error(`${what}: ragged nested arrays${detail}.`);
  if (ArrayBuffer.isView(nested) || Array.isArray(nested)) {
    if (shape.length === depth) shape.push(nested.length);
    else if (shape[depth] !== nested.length) {
      throw ragged(` (length ${nested.length} at depth ${depth}, expected ${shape[depth]})`);
    }
    if (ArrayBuffer.isView(nested)) {
      if (shape.length !== depth + 1) throw ragged();
      for (const value of nested) out.push(value);
    } else for (const item of nested) flatten(item, what, shape, depth + 1, out);
  } else if (typeof nested === "number") {
    if (shape.length !== depth) throw ragged();
    out.push(nested);
  } else {
    throw new TypeError(`${what}: expected numbers, typed arrays or nested arrays, received ` +
      `${nested === null ? "null" : typeof nested}.`);
  }
  return out;
}

/**
 * {data, shape} (a copy of the data, safe to transfer). A flat typed array without a shape
 * takes `spec`'s shape with the batch size it implies; without a spec it is rank 1.
 */
function toInput(data, shape, spec, what = "predict") {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView) && (shape || !Array.isArray(data))) {
    const typed = data instanceof Float64Array ? new Float32Array(data) : data.slice();
    if (!shape && !spec) shape = [typed.length];
    if (!shape) {
      const sample = (spec.shape || []).slice(1);
      if (sample.some((d) => d == null)) {
        throw new Error(`${what}: pass a shape; the model's input shape is ` +
          `${JSON.stringify(spec.shape)}.`);
      }
      const size = sample.reduce((a, b) => a * b, 1);
      if (!size || typed.length % size) {
        throw new Error(`${what}: ${typed.length} values are not a whole number of samples of ` +
          `shape ${JSON.stringify(sample)}.`);
      }
      shape = [typed.length / size, ...sample];
    }
    return { data: typed, shape: [...shape] };
  }
  const inferred = [];
  const values = Float32Array.from(flatten(data, what, inferred));
  return { data: values, shape: shape ? [...shape] : inferred };
}

const isTensor = (value) => value !== null && typeof value === "object" &&
  ArrayBuffer.isView(value.data) && Array.isArray(value.shape);

/** One array: {data, shape} (or an Output), a typed array, or nested arrays. */
const toArray = (value, spec, what) => (isTensor(value)
  ? toInput(value.data, value.shape, spec, what) : toInput(value, undefined, spec, what));

/**
 * fit / evaluate's x or y as the worker takes it: {arrays, names, single}. `specs`: the
 * model's inputs (x: a bare typed array takes their shapes) or null (y: one value per sample).
 * `count` arrays (inputs or outputs) are expected as a list or an object keyed by name.
 */
function toTensors(value, { specs, count, what, role }) {
  const plainObject = value !== null && typeof value === "object" && !Array.isArray(value) &&
    !ArrayBuffer.isView(value) && !isTensor(value);
  if (plainObject) {
    const names = Object.keys(value);
    const arrays = names.map((name) =>
      toArray(value[name], specs?.find((spec) => spec.name === name), `${what} ${role} '${name}'`));
    return { arrays, names, single: false };
  }
  if (count > 1) {
    if (!Array.isArray(value) || value.length !== count) {
      throw new Error(`${what}: the model has ${count} ${role === "x" ? "inputs" : "outputs"}; ` +
        `pass ${role} as a list of ${count} arrays or an object keyed by their names.`);
    }
    return { arrays: value.map((item, i) => toArray(item, specs?.[i], `${what} ${role}[${i}]`)),
      names: null, single: false };
  }
  if (value === undefined || value === null) {
    throw new TypeError(`${what}: ${role} is missing; expected {data, shape}, a typed array or ` +
      `nested arrays.`);
  }
  return { arrays: [toArray(value, specs?.[0], `${what} ${role}`)], names: null, single: true };
}

/** Keyword arguments for Python: the options this call knows, renamed; others refused. */
function keywords(options, names, what) {
  const kwargs = {};
  for (const [key, value] of Object.entries(options)) {
    if (!(key in names)) {
      throw new Error(`${what}: unknown option '${key}'; expected one of ` +
        `${Object.keys(names).join(", ")}.`);
    }
    if (value !== undefined && names[key]) kwargs[names[key]] = value;
  }
  return kwargs;
}

const buffersOf = (...groups) => groups.flatMap((group) => group.arrays.map((a) => a.data.buffer));

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

const FIT_OPTIONS = { epochs: "epochs", batchSize: "batch_size", validationSplit:
  "validation_split", shuffle: "shuffle", initialEpoch: "initial_epoch", onBatchEnd: null,
  onEpochEnd: null };
const COMPILE_OPTIONS = { optimizer: "optimizer", loss: "loss", metrics: "metrics",
  lossWeights: "loss_weights", weightedMetrics: "weighted_metrics" };
const EVALUATE_OPTIONS = { batchSize: "batch_size", returnDict: "return_dict" };
const SAVE_TYPES = { keras: "application/zip", h5: "application/x-hdf5",
  tfjs: "application/zip" };

/**
 * A loaded model: `predict` runs it in the worker, and the Keras training calls do too. On the
 * NumPy backend, once the worker has traced its predict and every step of it is one of the
 * WASM kernels' (web/cpu_replay.js), predict runs on the page's thread instead: same kernels,
 * same results, no round trip. `predictsOnPage` says where the last predict ran;
 * `pagePredictUnavailable`, why not on the page (null while that may still happen).
 */
export class Model {
  #replay = null; // a CpuReplay, checked against the worker's weights at #replayChecked
  #replayChecked = -1; // workerCalls when the worker last confirmed #replay's version
  #replayExport = null; // the export_plan request in flight


  constructor(id, info) {
    this.id = id;
    this.pythonName = `models[${id}]`; // the model in runPython's code
    this.name = info.name;
    this.inputs = info.inputs;
    this.outputs = info.outputs;
    this.layers = info.layers; // [{name, className, trainable}]
    this.backend = info.backend;
    this.device = info.device;
    this.disposed = false;
    this.predictsOnPage = false;
    // Only the NumPy backend's kernels run on the page (WebGPU's device is the worker's).
    this.pagePredictUnavailable = info.backend === "numpy" ? null
      : `the ${info.backend} backend predicts in the worker`;
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
    const replay = await this.#pageReplay(inputs);
    this.predictsOnPage = replay !== null;
    if (replay) {
      const output = replay.run(inputs[0].data, inputs[0].shape);
      return new Output(output.data, output.shape);
    }
    const reply = await runtime.client.request("predict", { model: this.id, inputs },
      { transfer: inputs.map((input) => input.data.buffer) });
    if (!this.#replay && !this.#replayExport && this.pagePredictUnavailable === null) {
      this.#exportReplay();
    }
    const outputs = reply.map(({ data: values, shape: dims }) => new Output(values, dims));
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  /** The page-thread replay for these inputs, once its weights are the worker's; or null. */
  async #pageReplay(inputs) {
    if (inputs.length !== 1 || !(inputs[0].data instanceof Float32Array)) return null;
    if (this.#replay !== null && this.#replayChecked !== workerCalls && !this.#replayExport) {
      this.#exportReplay(); // a call since the last check may have changed the weights
    }
    await this.#replayExport;
    return this.#replay?.accepts(inputs[0].shape) ? this.#replay : null;
  }

  /** Asks the worker for the model's predict plan (or whether the page's copy holds). */
  #exportReplay() {
    const checked = workerCalls;
    const known = this.#replay?.version ?? null;
    this.#replayExport = callPython("model_api", "export_plan", [this.id, known])
      .then(async ({ value, error }) => {
        if (error !== undefined) throw new Error(error);
        if (value.reason !== undefined) {
          this.#replay = null;
          this.pagePredictUnavailable = value.reason;
        } else if (value.program !== undefined) {
          this.#replay = await createCpuReplay(value);
        }
        this.#replayChecked = checked;
      })
      .catch((error) => { // the worker keeps predicting: silently correct, just slower
        this.#replay = null;
        this.pagePredictUnavailable = describe(error).message;
      })
      .finally(() => { this.#replayExport = null; });
  }

  /** webkeras_model_api.<func>(id, ...args) -> its value; Keras's errors reject. */
  async #call(what, func, args = [], options = {}) {
    if (this.disposed) throw new Error(`${what}: model '${this.name}' was disposed.`);
    const reply = await callPython("model_api", func, [this.id, ...args], options);
    if (reply.error !== undefined) {
      throw new PythonError(reply.error, reply.type, reply.traceback);
    }
    return reply.value;
  }

  /**
   * compile({optimizer, loss, metrics, lossWeights, weightedMetrics}) as Keras's: names
   * ("adam", "sparse_categorical_crossentropy", ["accuracy"]), lists or objects keyed by output
   * name; optimizer also {className: "Adam", config: {learning_rate: 1e-3}}.
   */
  async compile(options = {}) {
    const kwargs = keywords(options, COMPILE_OPTIONS, "compile");
    await this.#call("compile", "compile_model", [JSON.stringify(kwargs)]);
  }

  /**
   * fit(x, y, {epochs, batchSize, validationSplit, shuffle, initialEpoch, onBatchEnd,
   * onEpochEnd}) -> {history: {loss: [...], ...}, epoch: [0, 1, ...], params}. onBatchEnd(batch,
   * logs) and onEpochEnd(epoch, logs) are called as the worker trains.
   */
  async fit(x, y, options = {}) {
    const kwargs = keywords(options, FIT_OPTIONS, "fit");
    const xs = toTensors(x, { specs: this.inputs, count: this.inputs.length, what: "fit",
      role: "x" });
    const ys = toTensors(y, { count: this.outputs.length, what: "fit", role: "y" });
    const { onBatchEnd, onEpochEnd } = options;
    const onEvent = (event) => {
      if (event.type === "train-batch") onBatchEnd?.(event.batch, event.logs);
      else if (event.type === "train-epoch") onEpochEnd?.(event.epoch, event.logs);
    };
    const history = await this.#call("fit", "fit",
      [xs, ys, JSON.stringify(kwargs), Boolean(onBatchEnd)],
      { onEvent, transfer: buffersOf(xs, ys) });
    return JSON.parse(history);
  }

  /**
   * evaluate(x, y, {batchSize, returnDict}) -> as Keras returns it: the loss, [loss,
   * ...metrics], or with returnDict an object {loss, accuracy, ...}.
   */
  async evaluate(x, y, options = {}) {
    const kwargs = keywords(options, EVALUATE_OPTIONS, "evaluate");
    const xs = toTensors(x, { specs: this.inputs, count: this.inputs.length, what: "evaluate",
      role: "x" });
    const ys = toTensors(y, { count: this.outputs.length, what: "evaluate", role: "y" });
    const result = await this.#call("evaluate", "evaluate", [xs, ys, JSON.stringify(kwargs)],
      { transfer: buffersOf(xs, ys) });
    return JSON.parse(result);
  }

  /**
   * save("name.keras" | "name.h5" | "tfjs") -> a File (a Blob with that name): the .keras
   * archive, the .h5 file, or a zip of the TF.js model.json and its shards.
   */
  async save(target) {
    const kind = target === "tfjs" ? "tfjs"
      : typeof target === "string" && /^[^/\\]+\.(keras|h5)$/.exec(target)?.[1];
    if (!kind) {
      throw new Error(`save: expected "name.keras", "name.h5" or "tfjs", received ` +
        `${JSON.stringify(target)}.`);
    }
    const bytes = await this.#call("save", "save", [target]);
    const name = kind === "tfjs" ? `${this.name}_tfjs.zip` : target;
    return new File([bytes], name, { type: SAVE_TYPES[kind] });
  }

  /** The weights (Keras's get_weights order) as [{data, shape, array()}]. */
  async getWeights() {
    const weights = await this.#call("getWeights", "get_weights");
    return weights.map(({ data, shape }) => new Output(data, shape));
  }

  /** setWeights(list): one {data, shape} (or nested arrays) per weight, get_weights order. */
  async setWeights(weights) {
    if (!Array.isArray(weights)) {
      throw new TypeError(`setWeights: expected a list of arrays, received ${typeof weights}.`);
    }
    const arrays = weights.map((w, i) => toArray(w, null, `setWeights weight ${i}`));
    await this.#call("setWeights", "set_weights", [arrays],
      { transfer: arrays.map((a) => a.data.buffer) });
  }

  /** Keras's model.summary() as text. */
  summary() {
    return this.#call("summary", "summary");
  }

  /**
   * Sets `trainable` of a layer, by name or index in model.layers (freeze with false); as in
   * Keras, compile (again) afterwards for fit to see it. Resolves to the updated model.layers.
   */
  async setTrainable(layer, trainable) {
    if (typeof trainable !== "boolean") {
      throw new TypeError(`setTrainable: expected true or false, received ${trainable}.`);
    }
    this.layers = await this.#call("setTrainable", "set_trainable", [layer, trainable]);
    return this.layers;
  }

  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.#replay = null;
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
