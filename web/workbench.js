// The workbench page: an editor, Run / Stop / Restart, terminal-like output, live charts of
// every fit, figures (model graphs, what evaluate found), the working directory's files and
// the user's models. Python runs in web/worker.js through web/client.js
// (web/workbench_runtime.py on the Python side); this page only draws.

import { WorkerClient } from "./client.js";
import { createEditor } from "/vendor/codemirror.js";
import { Terminal } from "./workbench/terminal.js";
import { LiveCharts } from "./workbench/charts.js";
import { Figures } from "./workbench/figures.js";
import { FilesPanel } from "./workbench/files.js";
import { decodeFragment, encodeFragment } from "./workbench/share.js";

const STORAGE_KEY = "webkeras.workbench.code";
const SAVE_DELAY_MS = 300;
// After Stop, a fit has this long to reach its next batch before the run is interrupted.
const STOP_GRACE_MS = 5000;
// What a run's failure says when WebAssembly memory ran out below Python (no MemoryError).
const OUT_OF_MEMORY = /out of memory|Aborted\(OOM\)|Cannot enlarge memory|Array buffer allocation failed|fatal error/i;
// web/examples/<id>.py
const EXAMPLES = [
  ["mnist_mlp", "MNIST MLP"],
  ["lenet_cnn", "LeNet CNN (MNIST)"],
  ["imdb_lstm", "IMDB Embedding + LSTM"],
  ["boston_regression", "Boston housing regression"],
  ["multi_io", "Functional: multi-input / multi-output"],
  ["conv_autoencoder", "Convolutional autoencoder"],
  ["subclassed_model", "Subclassed model"],
  ["gradient_tape", "GradientTape custom loop"],
  ["callbacks", "Callbacks: EarlyStopping, ModelCheckpoint, CSVLogger"],
];
const DEFAULT_CODE = `# Ctrl/Cmd-Enter runs. Classic tutorials are in the Examples menu.
import keras
import numpy as np

print("keras is", keras.__name__, "on", keras.backend.backend(), "·", keras.backend.device())
x = np.linspace(-1, 1, 256).reshape(-1, 1).astype("float32")
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(16, activation="tanh"),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
history = model.fit(x, x ** 2, epochs=20, batch_size=32, validation_split=0.25, verbose=1)
history.history["loss"][-1]
`;

const $ = (id) => document.getElementById(id);
const ui = {
  run: $("run"), stop: $("stop"), restart: $("restart"), examples: $("examples"),
  backendSelect: $("backend-select"), share: $("share"), upload: $("upload"),
  status: $("status"), backend: $("backend"), bootText: $("boot-text"),
  bootProgress: $("boot-progress"), fitPanel: $("fit-panel"), fitText: $("fit-text"),
  fitEta: $("fit-eta"), fitProgress: $("fit-progress"), files: $("files"),
  noFiles: $("no-files"), models: $("models"), clear: $("clear"),
};
const terminal = new Terminal($("output"));
const charts = new LiveCharts($("charts"));
const files = new FilesPanel(ui, {
  client: () => client,
  say: (text, stream) => terminal.block(text, stream),
  busy: () => running,
});
const figures = new Figures($("figures"), {
  writeFile: (path, bytes) => files.write(path, bytes),
  note: (text) => terminal.block(text, "system"),
});
const query = new URLSearchParams(location.search);

let client = null;
let ready = false;
let running = false;
let fitting = false;
let stopTimer = null;
let runCount = 0;
let fit = { epochs: 0, steps: 0 }; // the running fit's shape

function setStatus(text, state) {
  ui.status.textContent = text;
  if (state) ui.status.dataset.state = state;
}

function setRunning(on) {
  running = on;
  ui.run.disabled = on || !ready;
  ui.stop.disabled = !on;
  files.setBusy(on);
}

const formatTime = (seconds) => {
  if (!Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
};

// -- worker events --------------------------------------------------------------------------
const events = {
  boot({ percent, text }) {
    ui.bootText.textContent = text;
    ui.bootProgress.value = percent;
  },
  async ready({ backend, bootSeconds, interruptible, noGPU }) {
    const booted = client;
    // The kept files go into the working directory before the first run.
    await files.restore().catch((error) => terminal.block(
      `Restoring the working directory failed: ${error.message}`, "stderr"));
    if (booted !== client) return; // restarted meanwhile
    ready = true;
    ui.bootProgress.hidden = true;
    ui.bootText.textContent = `Ready in ${bootSeconds.toFixed(1)} s` +
      (interruptible ? "" : " (Stop can only stop fits: this page is not cross-origin isolated)");
    ui.backend.textContent = backend;
    ui.backend.dataset.backend = backend;
    if (noGPU) terminal.block(`No WebGPU here, so Python runs on the CPU (NumPy in WebAssembly): ` +
      `${noGPU}`, "system");
    setRunning(running);
    if (HAS_JSPI) setStatus("Ready.", "ready");
    else setStatus("This browser lacks JSPI (WebAssembly.Suspending): datasets and the WebGPU " +
      "backend will not work here; use Chrome or Edge 137 or newer.", "ready");
  },
  error({ message }) {
    terminal.block(message, "stderr");
    setStatus("Error (see the output).", "error");
  },
  "device-lost": ({ message }) => {
    terminal.block(`${message} Restarting on the CPU (NumPy backend); your code and files ` +
      "are kept.", "stderr");
    chooseBackend("numpy");
    restart();
  },
  stdout({ stream, text }) {
    terminal.write(text, stream);
  },
  backend({ name, adapter }) {
    ui.backend.textContent = `${name} · ${adapter}`;
    ui.backend.dataset.backend = name;
  },
  dataset({ name, loaded, total, source, done }) {
    const mb = (n) => (n / 1e6).toFixed(1);
    if (source === "cache") setStatus(`Loaded ${name} from the browser cache.`);
    else if (done) setStatus(`Downloaded ${name} (${mb(loaded)} MB).`);
    else setStatus(`Downloading ${name}: ${mb(loaded)}${total ? ` of ${mb(total)}` : ""} MB`);
  },
  "fit-begin"({ epochs, steps, backend, device }) {
    fitting = true;
    ui.fitPanel.hidden = false;
    ui.fitProgress.max = Math.max(epochs * steps, 1);
    ui.fitProgress.value = 0;
    ui.fitProgress.dataset.done = 0;
    ui.fitText.textContent = `Epoch 1/${epochs}`;
    ui.fitEta.textContent = `${backend} · ${device}`;
    charts.reset({ steps });
    fit = { epochs, steps };
  },
  batch(event) {
    const { epochs, steps } = fit;
    const { epoch, batch, done, total, seconds } = event;
    ui.fitProgress.value = done;
    ui.fitProgress.dataset.done = done;
    ui.fitText.textContent = `Epoch ${epoch + 1}/${epochs} · batch ${batch + 1}/${steps || "?"}`;
    const eta = total ? (seconds / done) * (total - done) : NaN;
    ui.fitEta.textContent = `${formatTime(seconds)} elapsed · ETA ${formatTime(eta)} · ` +
      `${((1000 * seconds) / done).toFixed(0)} ms/step`;
    charts.batch(event);
  },
  epoch(event) {
    charts.epoch(event);
  },
  graph(event) {
    figures.graph(event);
  },
  evaluation(event) {
    figures.evaluation(event);
  },
  "fit-end"({ done, stopped, seconds }) {
    fitting = false;
    clearTimeout(stopTimer);
    charts.draw();
    ui.fitEta.textContent = `${stopped ? "stopped" : "done"}: ${done} steps in ${formatTime(seconds)}`;
    ui.fitPanel.dataset.state = stopped ? "stopped" : "done";
  },
};

// Synchronous Keras code waits on async browser work (GPU readback, dataset downloads)
// through JSPI: Chrome/Edge >= 137 have it, Firefox and Safari do not yet.
const HAS_JSPI = typeof WebAssembly.Suspending === "function";

function startClient(backend) {
  ready = false;
  fitting = false;
  client = new WorkerClient();
  for (const [type, handler] of Object.entries(events)) client.on(type, handler);
  ui.bootProgress.hidden = false;
  ui.backend.textContent = "booting…";
  setRunning(false);
  client.boot({ backend }).catch(() => {}); // "error" events show what went wrong
}

// -- run / stop / restart -------------------------------------------------------------------
async function run() {
  if (!ready || running) return;
  const code = editor.getCode();
  editor.markErrorLine(null);
  runCount++;
  terminal.block(`── run ${runCount} ──`, "system");
  // Like a notebook cell's output, the charts and figures show this run's only.
  charts.reset();
  figures.reset();
  ui.fitPanel.hidden = true;
  delete ui.fitPanel.dataset.state;
  setRunning(true);
  setStatus("Running…", "running");
  if (client.interruptBuffer) client.interruptBuffer[0] = 0;
  const current = client;
  try {
    const result = await current.request("run", { code });
    files.showModels(result.models);
    if (result.ok) {
      if (result.value != null) terminal.block(result.value, "value");
      setStatus(`Done in ${result.seconds.toFixed(1)} s.`, "done");
    } else {
      terminal.block(result.error, "stderr");
      editor.markErrorLine(result.line);
      if (result.interrupted) setStatus("Interrupted.", "interrupted");
      else if (result.outOfMemory) setStatus("Out of memory (see the output).", "oom");
      else setStatus(`${result.type}${result.line ? ` on line ${result.line}` : ""}.`, "error");
    }
  } catch (error) {
    if (current !== client) return; // restarted meanwhile
    terminal.block(error.message, "stderr");
    if (OUT_OF_MEMORY.test(error.message)) {
      // WebAssembly memory ran out below Python: this interpreter cannot go on.
      ready = false;
      terminal.block("Out of memory: the tab's Python interpreter ran out of WebAssembly " +
        "memory and stopped. Press Restart for a fresh one (the files in the working " +
        "directory are kept).", "stderr");
      setStatus("Out of memory: press Restart.", "oom");
    } else setStatus("Error (see the output).", "error");
  } finally {
    if (current === client) {
      // A Stop that came as the run ended must not interrupt the next Python call.
      if (client.interruptBuffer) client.interruptBuffer[0] = 0;
      clearTimeout(stopTimer);
      stopTimer = null;
      fitting = false;
      setRunning(false);
      files.refresh();
    }
  }
}

function stop() {
  if (!running) return;
  if (fitting && !stopTimer) {
    client.stop();
    setStatus("Stopping at the next batch…", "stopping");
    stopTimer = setTimeout(() => client.interrupt(), STOP_GRACE_MS);
    return;
  }
  // Not in a fit (or Stop pressed again): interrupt the Python code itself.
  if (!client.interrupt()) client.stop();
  setStatus("Interrupting…", "stopping");
}

/** The backend the next (re)start boots, kept in the address for a reload. */
function chooseBackend(name) {
  ui.backendSelect.value = name;
  query.set("backend", name);
  history.replaceState(null, "", `${location.pathname}?${query}${location.hash}`);
}

function restart() {
  client.terminate("restarted");
  clearTimeout(stopTimer);
  stopTimer = null;
  running = false;
  terminal.block("── restarted: a fresh Python interpreter (variables are gone, files are " +
    "kept) ──", "system");
  charts.reset();
  figures.reset();
  ui.fitPanel.hidden = true;
  files.showModels([]);
  setStatus("Restarting…", "restarting");
  startClient(ui.backendSelect.value);
}

// -- code: examples, persistence, share links ----------------------------------------------
async function loadExample(id) {
  const response = await fetch(`/static/examples/${id}.py`);
  if (!response.ok) throw new Error(`GET /static/examples/${id}.py -> ${response.status}`);
  editor.setCode(await response.text());
  editor.markErrorLine(null);
  setStatus(`Loaded the example ${id}. Press Run (Ctrl/Cmd-Enter).`);
}

let saveTimer = null;
function saveCode(code) {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    try {
      localStorage.setItem(STORAGE_KEY, code);
    } catch (error) {
      console.warn("workbench: could not keep the code in localStorage", error);
    }
  }, SAVE_DELAY_MS);
}

async function share() {
  const fragment = await encodeFragment(editor.getCode());
  history.replaceState(null, "", `${location.pathname}${location.search}${fragment}`);
  ui.share.dataset.url = location.href;
  try {
    await navigator.clipboard.writeText(location.href);
    setStatus("Link copied to the clipboard (it is also in the address bar).");
  } catch {
    setStatus("The share link is in the address bar.");
  }
}

async function initialCode() {
  const shared = await decodeFragment(location.hash);
  if (shared !== null) return shared;
  try {
    return localStorage.getItem(STORAGE_KEY) ?? DEFAULT_CODE;
  } catch {
    return DEFAULT_CODE;
  }
}

// -- start ----------------------------------------------------------------------------------
for (const [id, title] of EXAMPLES) ui.examples.add(new Option(title, id));
const backend = (query.get("backend") || "auto").toLowerCase();
ui.backendSelect.value = ["auto", "webgpu", "numpy"].includes(backend) ? backend : "auto";
startClient(backend);

const editor = createEditor($("editor"), { doc: await initialCode(), onRun: run, onChange: saveCode });
if (query.get("example") && !location.hash) {
  await loadExample(query.get("example")).catch((error) => setStatus(error.message, "error"));
}

ui.run.addEventListener("click", run);
ui.stop.addEventListener("click", stop);
ui.restart.addEventListener("click", restart);
ui.clear.addEventListener("click", () => terminal.clear());
ui.share.addEventListener("click", share);
ui.upload.addEventListener("change", () => files.upload([...ui.upload.files]));
ui.examples.addEventListener("change", () => {
  const id = ui.examples.value;
  ui.examples.value = "";
  if (id) loadExample(id).catch((error) => setStatus(error.message, "error"));
});
ui.backendSelect.addEventListener("change", () => {
  chooseBackend(ui.backendSelect.value);
  restart();
});
// For tests and the console.
window.workbench = {
  get ready() {
    return ready;
  },
  get running() {
    return running;
  },
  get client() {
    return client;
  },
  editor,
  run,
  output: () => terminal.text(),
  chartCounts: () => charts.counts(),
  figureCounts: () => figures.counts(),
  runPython: (code) => client.request("python", { code }),
};
