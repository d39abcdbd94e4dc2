// The /handwriting page: draw examples of some digits, fine-tune the shipped MNIST CNN on them
// in this tab (convolution layers frozen: only the classifier learns), see the prediction
// change, download the fine-tuned model. Uses only the public JS API (/webkeras.js).

import * as webkeras from "/webkeras.js";
import { DigitPad, SIDE, drawPreview } from "/static/digit_pad.js";

const MODEL_URL = "/models/mnist_cnn/model.json";
const LEARNING_RATE = 1e-3;
const BATCH_SIZE = 16;
// Each example is also trained on shifted by one pixel each way: five images per drawing.
const SHIFTS = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]];

const query = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const ui = {
  loadText: $("load-text"), loadPercent: $("load-percent"), loadProgress: $("load-progress"),
  backend: $("backend"), pad: $("pad"), preview: $("preview"), clear: $("clear"),
  answer: $("answer"), labels: $("labels"), exampleCount: $("example-count"),
  examples: $("examples"), epochs: $("epochs"), fit: $("fit"), reset: $("reset"),
  download: $("download"), fitStatus: $("fit-status"), loss: $("loss"), error: $("error"),
  errorPanel: $("error-panel"),
};

// State the tests (and the console) can read.
const state = { status: "booting", examples: [], predictions: 0, last: null, fits: 0,
  history: null, downloads: 0 };
window.webkerasHandwriting = state;

let model = null;
let originalWeights = null;
let busy = false; // a fit, reset or download is running

function showError(message) {
  ui.errorPanel.hidden = false;
  ui.error.hidden = false;
  ui.error.textContent = message;
}

function setBusy(value) {
  busy = value;
  for (const button of [ui.fit, ui.reset, ui.download]) button.disabled = value || !model;
  ui.fit.disabled ||= state.examples.length === 0;
}

/** Runs `work` with the buttons disabled; its error is shown on the page. */
async function whileBusy(work) {
  setBusy(true);
  try {
    await work();
  } catch (error) {
    showError(error.message);
  } finally {
    setBusy(false);
  }
}

// -- drawing and predicting -----------------------------------------------------------------
const pad = new DigitPad(ui.pad, { onStroke: (phase) => phase === "end" && predict() });

async function predict() {
  const image = pad.toMNIST();
  if (!model || !image) return;
  drawPreview(ui.preview, image);
  const output = await model.predict(image, [1, SIDE, SIDE, 1]);
  const probabilities = Array.from(output.data);
  const label = probabilities.indexOf(Math.max(...probabilities));
  state.predictions += 1;
  state.last = { input: Array.from(image), probabilities, label };
  ui.answer.innerHTML = `<b>${label}</b> <span class="muted">` +
    `${(100 * probabilities[label]).toFixed(1)}%</span>`;
}

function clearPad() {
  pad.clear();
  ui.preview.getContext("2d").clearRect(0, 0, SIDE, SIDE);
  ui.answer.innerHTML = '<span class="muted">Draw a digit</span>';
  state.last = null;
}

ui.clear.addEventListener("click", clearPad);

// -- examples -------------------------------------------------------------------------------
function addExample(label) {
  const image = pad.toMNIST();
  if (!image) {
    ui.fitStatus.textContent = "Draw a digit first, then say which it is.";
    return;
  }
  state.examples.push({ image, label });
  const figure = document.createElement("div");
  figure.className = "example";
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIDE;
  drawPreview(canvas, image);
  figure.append(canvas, String(label));
  ui.examples.append(figure);
  const n = state.examples.length;
  ui.exampleCount.textContent = `${n} example${n === 1 ? "" : "s"}`;
  clearPad();
  setBusy(busy);
}

for (let digit = 0; digit < 10; digit++) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = `label-${digit}`;
  button.textContent = String(digit);
  button.addEventListener("click", () => addExample(digit));
  ui.labels.append(button);
}

function shifted(image, dx, dy) {
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const [sx, sy] = [x - dx, y - dy];
      if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = image[sy * SIDE + sx];
    }
  }
  return out;
}

/** The examples (each shifted by SHIFTS) as fit's x and y. */
function trainingData() {
  const count = state.examples.length * SHIFTS.length;
  const x = new Float32Array(count * SIDE * SIDE);
  const y = new Int32Array(count);
  let i = 0;
  for (const { image, label } of state.examples) {
    for (const [dx, dy] of SHIFTS) {
      x.set(shifted(image, dx, dy), i * SIDE * SIDE);
      y[i++] = label;
    }
  }
  return { x: { data: x, shape: [count, SIDE, SIDE, 1] }, y };
}

// -- the loss chart -------------------------------------------------------------------------
let chart = null;

function lossChart() {
  chart ??= window.Chart && new window.Chart(ui.loss, {
    type: "line",
    data: { labels: [], datasets: [{ label: "loss", data: [], borderColor: "#d0471f",
      tension: 0.2, pointRadius: 2 }] },
    options: { animation: false, maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: "epoch" } },
        y: { min: 0, title: { display: true, text: "loss" } } } },
  });
  return chart;
}

function plotLoss(epoch, loss) {
  const line = lossChart();
  if (!line) return;
  line.data.labels.push(String(epoch));
  line.data.datasets[0].data.push(loss);
  line.update("none");
}

function clearLoss() {
  const line = lossChart();
  if (!line) return;
  line.data.labels = [];
  line.data.datasets[0].data = [];
  line.update("none");
}

// -- fine-tuning, reset, download -----------------------------------------------------------
async function fineTune() {
  const epochs = Number(ui.epochs.value);
  if (!Number.isInteger(epochs) || epochs < 1) {
    ui.fitStatus.textContent = "Epochs: a whole number, 1 or more.";
    return;
  }
  await whileBusy(async () => {
    clearLoss();
    const started = performance.now();
    const { x, y } = trainingData();
    const history = await model.fit(x, y, {
      epochs, batchSize: BATCH_SIZE, shuffle: true,
      onEpochEnd: (epoch, logs) => {
        plotLoss(epoch + 1, logs.loss);
        ui.fitStatus.textContent = `epoch ${epoch + 1}/${epochs} · loss ${logs.loss.toFixed(4)}`;
      },
    });
    state.history = history;
    state.fits += 1;
    const losses = history.history.loss;
    const seconds = (performance.now() - started) / 1000;
    ui.fitStatus.textContent = `Fine-tuned on ${y.length} images in ${seconds.toFixed(1)} s: ` +
      `loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}. Draw again.`;
    await predict();
  });
}

function reset() {
  return whileBusy(async () => {
    await model.setWeights(originalWeights);
    clearLoss();
    ui.fitStatus.textContent = "Back to the shipped weights.";
    await predict();
  });
}

function download() {
  return whileBusy(async () => {
    const file = await model.save(`${model.name}_handwriting.keras`);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file);
    link.download = file.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    state.downloads += 1;
  });
}

ui.fit.addEventListener("click", fineTune);
ui.reset.addEventListener("click", reset);
ui.download.addEventListener("click", download);

// -- loading --------------------------------------------------------------------------------
function onProgress({ stage, fraction, text }) {
  ui.loadText.textContent = text;
  if (fraction !== undefined) {
    ui.loadProgress.value = fraction;
    ui.loadPercent.textContent = `${stage} ${Math.round(fraction * 100)}%`;
  }
}

async function load() {
  const started = performance.now();
  try {
    const loaded = await webkeras.loadModel(MODEL_URL,
      { onProgress, backend: query.get("backend") || "auto" });
    // Only the classifier learns from a handful of drawings: freeze the feature extractor.
    for (const layer of loaded.layers) {
      if (layer.className === "Conv2D") await loaded.setTrainable(layer.name, false);
    }
    await loaded.compile({ optimizer: { className: "Adam", config: {
      learning_rate: LEARNING_RATE } }, loss: "sparse_categorical_crossentropy",
    metrics: ["accuracy"] });
    originalWeights = await loaded.getWeights();
    model = loaded;
    ui.backend.textContent = `${model.backend} · ${model.device}`;
    ui.backend.dataset.backend = model.backend;
    const frozen = model.layers.filter((layer) => !layer.trainable).map((layer) => layer.name);
    const seconds = (performance.now() - started) / 1000;
    ui.loadText.textContent = `Loaded ${model.name} in ${seconds.toFixed(1)} s (frozen: ` +
      `${frozen.join(", ")}). Draw a digit, then say which it is.`;
    ui.loadProgress.value = 1;
    state.status = "ready";
    setBusy(false);
    await predict();
  } catch (error) {
    state.status = "error";
    ui.loadText.textContent = "Loading failed.";
    showError(error.message);
  }
}

window.addEventListener("load", lossChart);
load();
