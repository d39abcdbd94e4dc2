// The training page: draws what the worker reports. All compute runs in web/worker.js.

import { WorkerClient } from "./client.js";

const MODEL_FILENAME = "mnist_mlp.keras";
// A blob URL must outlive the click that starts its download; then it is freed.
const BLOB_URL_LIFETIME_MS = 60_000;

const query = new URLSearchParams(location.search);
const intParam = (name, fallback) => {
  const value = parseInt(query.get(name), 10);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const params = {
  samples: Math.min(intParam("samples", 60000), 60000),
  epochs: intParam("epochs", 1),
  batch_size: intParam("batch_size", intParam("batch", 128)),
  backend: (query.get("backend") || "webgpu").toLowerCase(),
};
// `?seed=N` picks the random state; without it train_mnist.py uses its fixed default.
if (/^\d+$/.test(query.get("seed") || "")) params.seed = parseInt(query.get("seed"), 10);

const $ = (id) => document.getElementById(id);
const ui = {
  boot: $("boot"),
  bootText: $("boot-text"),
  bootPercent: $("boot-percent"),
  bootProgress: $("boot-progress"),
  train: $("train"),
  stop: $("stop"),
  config: $("config"),
  status: $("status"),
  progress: $("progress"),
  progressText: $("progress-text"),
  loss: $("loss"),
  accuracy: $("accuracy"),
  stepTime: $("step-time"),
  backend: $("backend"),
  testAccuracy: $("test-accuracy"),
  download: $("download"),
  savedInfo: $("saved-info"),
  error: $("error"),
};

ui.config.textContent =
  `${params.samples} samples · ${params.epochs} epoch(s) · batch ${params.batch_size} · ` +
  `backend ${params.backend}`;
ui.backend.textContent = params.backend;

// -- chart (updates throttled: the worker may report faster than it is worth redrawing) -----
const CHART_INTERVAL_MS = 250;
let chart = null;
let chartTimer = null;
const points = { labels: [], loss: [], accuracy: [] };

function makeChart() {
  if (chart || !window.Chart) return chart;
  chart = new window.Chart($("chart"), {
    type: "line",
    data: {
      labels: points.labels,
      datasets: [
        {
          label: "loss", data: points.loss, yAxisID: "loss",
          borderColor: "#d0471f", backgroundColor: "#d0471f",
        },
        {
          label: "accuracy", data: points.accuracy, yAxisID: "accuracy",
          borderColor: "#2a6fdb", backgroundColor: "#2a6fdb",
        },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      elements: { point: { radius: 0 }, line: { borderWidth: 2 } },
      interaction: { mode: "nearest", axis: "x", intersect: false },
      scales: {
        x: { type: "linear", min: 0, title: { display: true, text: "batch" } },
        loss: {
          type: "linear", position: "left", beginAtZero: true,
          title: { display: true, text: "loss" },
        },
        accuracy: {
          type: "linear", position: "right", min: 0, max: 1,
          grid: { drawOnChartArea: false }, title: { display: true, text: "accuracy" },
        },
      },
    },
  });
  return chart;
}

function scheduleChart() {
  if (chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    if (makeChart()) chart.update("none");
  }, CHART_INTERVAL_MS);
}

function resetChart() {
  points.labels.length = 0;
  points.loss.length = 0;
  points.accuracy.length = 0;
  if (chart) chart.update("none");
}

// -- state ----------------------------------------------------------------------------------
const stepTimes = [];
let ready = false;
let training = false;
let savedPath = null;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}

function setTraining(on) {
  training = on;
  ui.train.disabled = on || !ready;
  ui.stop.disabled = !on;
}

function showError(message) {
  ui.error.hidden = false;
  ui.error.textContent = message;
  ui.status.textContent = "Error";
  setTraining(false);
}

const fmt = (value, digits = 4) => (value == null ? "–" : Number(value).toFixed(digits));

// -- worker ---------------------------------------------------------------------------------
const client = new WorkerClient();

const handlers = {
  boot({ percent, text }) {
    ui.bootText.textContent = text;
    ui.bootPercent.textContent = `${percent}%`;
    ui.bootProgress.value = percent;
  },
  ready({ stages }) {
    console.info("webkeras boot (ms since start):", JSON.stringify(stages));
    ready = true;
    ui.boot.classList.add("done");
    ui.status.textContent = "Ready. Press Train.";
    setTraining(false);
  },
  backend({ name, adapter }) {
    ui.backend.textContent = `${name} · ${adapter}`;
    ui.backend.dataset.backend = name;
  },
  status({ text }) {
    ui.status.textContent = text;
  },
  // Dataset downloads (web/dataset_cache.js): progress in the status line.
  dataset({ name, loaded, total, source, done }) {
    const mb = (n) => (n / 1e6).toFixed(1);
    if (source === "cache") ui.status.textContent = `Loaded ${name} from the browser cache.`;
    else if (done) ui.status.textContent = `Downloaded ${name} (${mb(loaded)} MB).`;
    else if (total) {
      const percent = Math.min(100, Math.floor((100 * loaded) / total));
      ui.status.textContent = `Downloading ${name}: ${percent}% (${mb(loaded)} of ${mb(total)} MB)`;
    } else ui.status.textContent = `Downloading ${name}: ${mb(loaded)} MB`;
  },
  "train-begin"({ total }) {
    if (makeChart()) chart.options.scales.x.max = total;
    ui.progress.max = Math.max(total, 1);
    ui.progress.value = 0;
    ui.progressText.textContent = `0 / ${total} batches`;
  },
  batch({ done, total, loss, accuracy, ms }) {
    ui.progress.max = Math.max(total, 1);
    ui.progress.value = done;
    ui.progressText.textContent = `${done} / ${total} batches`;
    ui.progress.dataset.done = done;
    ui.loss.textContent = fmt(loss);
    ui.accuracy.textContent = fmt(accuracy);
    // The first step compiles pipelines: keep it out of the median.
    if (done > 1) stepTimes.push(ms);
    if (stepTimes.length) ui.stepTime.textContent = `${median(stepTimes).toFixed(1)} ms`;
    points.labels.push(done);
    points.loss.push({ x: done, y: loss });
    points.accuracy.push({ x: done, y: accuracy });
    scheduleChart();
  },
  epoch({ epoch, logs }) {
    ui.status.textContent =
      `Epoch ${epoch + 1}: loss ${fmt(logs.loss)}, accuracy ${fmt(logs.accuracy)}`;
  },
  result(result) {
    setTraining(false);
    if (chart || makeChart()) chart.update("none");
    if (result.stopped) {
      ui.status.textContent = `Stopped after ${result.batches} batches.`;
      ui.status.dataset.state = "stopped";
      return;
    }
    ui.status.textContent =
      `Done: trained in ${result.train_seconds.toFixed(1)} s, evaluated in ` +
      `${result.eval_seconds.toFixed(1)} s.`;
    ui.status.dataset.state = "done";
    ui.testAccuracy.textContent = `Test accuracy: ${fmt(result.test_accuracy)}`;
  },
  error({ message }) {
    showError(message);
  },
  "device-lost": ({ message }) => {
    showError(`${message} Reload with ?backend=numpy to train on the CPU.`);
  },
  saved({ path, bytes, seconds }) {
    savedPath = path;
    ui.savedInfo.textContent =
      `${MODEL_FILENAME} · ${(bytes / 1024).toFixed(0)} KiB · saved in ${seconds.toFixed(2)} s`;
    ui.download.dataset.bytes = bytes;
    ui.download.hidden = false;
    ui.download.disabled = false;
  },
};

for (const [type, handler] of Object.entries(handlers)) client.on(type, handler);

ui.train.addEventListener("click", () => {
  if (!ready || training) return;
  ui.error.hidden = true;
  ui.testAccuracy.textContent = "";
  // The next run overwrites the saved file: offer it again once that one is saved.
  savedPath = null;
  ui.download.hidden = true;
  ui.savedInfo.textContent = "";
  ui.status.dataset.state = "training";
  stepTimes.length = 0;
  resetChart();
  setTraining(true);
  client.request("call", { module: "train_mnist", func: "run", args: [params] })
    .catch((error) => showError(error.message));
});
ui.stop.addEventListener("click", () => {
  ui.status.textContent = "Stopping after this batch…";
  client.stop();
});
// The saved model's bytes come from Pyodide's filesystem in the worker.
ui.download.addEventListener("click", async () => {
  if (!savedPath) return;
  ui.download.disabled = true;
  try {
    const bytes = await client.request("read-file", { path: savedPath });
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = MODEL_FILENAME;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
  } catch (error) {
    showError(`Download failed: ${error.message}`);
  } finally {
    ui.download.disabled = false;
  }
});

// boot / ready / error events reach the handlers above.
client.boot({ backend: params.backend }).catch(() => {});

// A small JS API (tests, console): run Python in the worker, get str(result) back.
window.webkeras = {
  params,
  runPython(code) {
    return client.request("python", { code });
  },
  get ready() {
    return ready;
  },
  get chartPoints() {
    return points.labels.length;
  },
};
