// The /predict page: draw a digit, a converted Keras model predicts it live. Uses the public
// JS API (/webkeras.js) the way any other page would.

import * as webkeras from "/webkeras.js";
import { DigitPad, SIDE, drawPreview } from "/static/digit_pad.js";

const DEFAULT_MODEL = "/models/mnist_cnn/model.json";

const query = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const ui = {
  form: $("model-form"), url: $("model-url"), load: $("load"), loadText: $("load-text"),
  loadPercent: $("load-percent"), loadProgress: $("load-progress"), backend: $("backend"),
  pad: $("pad"), preview: $("preview"), clear: $("clear"), answer: $("answer"),
  bars: $("bars"), timing: $("timing"), error: $("error"), errorPanel: $("error-panel"),
};

// State the tests (and the console) can read.
const state = { status: "booting", model: null, predictions: 0, last: null, inputShape: null };
window.webkerasPredict = state;

function showError(message) {
  ui.errorPanel.hidden = false;
  ui.error.hidden = false;
  ui.error.textContent = message;
}

function clearError() {
  ui.errorPanel.hidden = true;
  ui.error.hidden = true;
}

// -- the drawing pad ------------------------------------------------------------------------
const pad = new DigitPad(ui.pad, { onStroke: () => schedulePredict() });

function clearPad() {
  pad.clear();
  ui.preview.getContext("2d").clearRect(0, 0, SIDE, SIDE);
  ui.answer.innerHTML = '<span class="muted">Draw a digit</span>';
  state.last = null;
  showBars(new Array(10).fill(0));
}

ui.clear.addEventListener("click", clearPad);

// -- the bar chart --------------------------------------------------------------------------
let chart = null;

function showBars(probabilities) {
  if (!chart && window.Chart) {
    chart = new window.Chart(ui.bars, {
      type: "bar",
      data: { labels: [...Array(10).keys()].map(String),
        datasets: [{ label: "probability", data: probabilities, backgroundColor: [] }] },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { min: 0, max: 1, title: { display: true, text: "probability" } },
          x: { title: { display: true, text: "class" } } },
      },
    });
  }
  if (!chart) return;
  const best = probabilities.indexOf(Math.max(...probabilities));
  const dataset = chart.data.datasets[0];
  dataset.data = probabilities;
  dataset.backgroundColor = probabilities.map((p, i) => (i === best && p > 0 ? "#d0471f" : "#2a6fdb"));
  chart.update("none");
}

// -- predicting -----------------------------------------------------------------------------
let model = null;
let busy = false;
let dirty = false;

function schedulePredict() {
  dirty = true;
  if (!busy) requestAnimationFrame(predictNow);
}

async function predictNow() {
  if (!model || busy || !dirty) return;
  dirty = false;
  const image = pad.toMNIST();
  if (!image) return;
  drawPreview(ui.preview, image);
  busy = true;
  const started = performance.now();
  try {
    const output = await model.predict(image, [1, ...state.inputShape]);
    const probabilities = Array.from(output.data);
    const label = probabilities.indexOf(Math.max(...probabilities));
    const ms = performance.now() - started;
    state.predictions += 1;
    state.last = { input: Array.from(image), probabilities, label, ms };
    ui.answer.innerHTML = `<b>${label}</b> <span class="muted">${(100 * probabilities[label]).toFixed(1)}%</span>`;
    // Sub-millisecond on the page-thread predict (NumPy backend): show the decimals.
    ui.timing.textContent = `prediction ${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
    showBars(probabilities);
  } catch (error) {
    showError(error.message);
  } finally {
    busy = false;
    if (dirty) requestAnimationFrame(predictNow);
  }
}

// -- loading --------------------------------------------------------------------------------
/** The per-sample input shape the pad can feed: [28, 28, 1], [28, 28] or [784]. */
function padShape(spec) {
  const sample = JSON.stringify(spec.shape.slice(1));
  const shapes = { "[28,28,1]": [28, 28, 1], "[28,28]": [28, 28], "[784]": [784] };
  if (!shapes[sample]) {
    throw new Error(`This page draws 28×28 digits, but the model's input shape is ` +
      `${JSON.stringify(spec.shape)}; expected [null, 28, 28, 1], [null, 28, 28] or [null, 784].`);
  }
  return shapes[sample];
}

function onProgress({ stage, fraction, text }) {
  ui.loadText.textContent = text;
  if (fraction !== undefined) {
    ui.loadProgress.value = fraction;
    ui.loadPercent.textContent = `${stage} ${Math.round(fraction * 100)}%`;
  }
}

async function load(url) {
  clearError();
  ui.load.disabled = true;
  state.status = "loading";
  const started = performance.now();
  try {
    const next = await webkeras.loadModel(url, { onProgress, backend: query.get("backend") || "auto" });
    state.inputShape = padShape(next.inputs[0]);
    model?.dispose();
    model = next;
    state.model = { name: model.name, url, inputs: model.inputs, outputs: model.outputs };
    ui.backend.textContent = `${model.backend} · ${model.device}`;
    ui.backend.dataset.backend = model.backend;
    const seconds = (performance.now() - started) / 1000;
    ui.loadText.textContent = `Loaded ${model.name} in ${seconds.toFixed(1)} s. Draw a digit.`;
    ui.loadProgress.value = 1;
    state.status = "ready";
    schedulePredict();
  } catch (error) {
    state.status = "error";
    ui.loadText.textContent = "Loading failed.";
    showError(error.message);
  } finally {
    ui.load.disabled = false;
  }
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(ui.url.value.trim());
});

ui.url.value = query.get("model") || DEFAULT_MODEL;
clearPad();
window.addEventListener("load", () => showBars(chart ? chart.data.datasets[0].data : new Array(10).fill(0)));
load(ui.url.value);
