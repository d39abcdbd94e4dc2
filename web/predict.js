// The /predict page: draw a digit, a converted Keras model predicts it live. Uses the public
// JS API (/webkeras.js) the way any other page would.

import * as webkeras from "/webkeras.js";

const DEFAULT_MODEL = "/models/mnist_cnn/model.json";
const SIDE = 28; // MNIST: 28x28 images, the digit fitted in a 20x20 box centred by mass
const BOX = 20;
const STROKE = 20; // px on the 280 px pad: about MNIST's stroke width once scaled down

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
const pad = ui.pad.getContext("2d", { willReadFrequently: true });

function clearPad() {
  pad.fillStyle = "#000";
  pad.fillRect(0, 0, ui.pad.width, ui.pad.height);
  ui.preview.getContext("2d").clearRect(0, 0, SIDE, SIDE);
  ui.answer.innerHTML = '<span class="muted">Draw a digit</span>';
  state.last = null;
  showBars(new Array(10).fill(0));
}

let drawing = false;
let lastPoint = null;

function padPoint(event) {
  const rect = ui.pad.getBoundingClientRect();
  return [(event.clientX - rect.left) * (ui.pad.width / rect.width),
    (event.clientY - rect.top) * (ui.pad.height / rect.height)];
}

function strokeTo(point) {
  pad.strokeStyle = "#fff";
  pad.fillStyle = "#fff";
  pad.lineWidth = STROKE;
  pad.lineCap = "round";
  pad.lineJoin = "round";
  pad.beginPath();
  if (lastPoint) {
    pad.moveTo(...lastPoint);
    pad.lineTo(...point);
    pad.stroke();
  } else {
    pad.arc(point[0], point[1], STROKE / 2, 0, 2 * Math.PI);
    pad.fill();
  }
  lastPoint = point;
}

ui.pad.addEventListener("pointerdown", (event) => {
  drawing = true;
  lastPoint = null;
  ui.pad.setPointerCapture(event.pointerId);
  strokeTo(padPoint(event));
  schedulePredict();
});
ui.pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  strokeTo(padPoint(event));
  schedulePredict();
});
for (const type of ["pointerup", "pointercancel"]) {
  ui.pad.addEventListener(type, () => {
    drawing = false;
    lastPoint = null;
    schedulePredict();
  });
}
ui.clear.addEventListener("click", clearPad);

/**
 * The pad as MNIST sees digits: the ink's bounding box scaled (area average) into a 20x20
 * box, placed in 28x28 so that its centre of mass is at the centre. null when blank.
 */
function padToMNIST() {
  const { width, height } = ui.pad;
  const pixels = pad.getImageData(0, 0, width, height).data;
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[4 * (y * width + x)] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  // A square box around the ink, so the digit keeps its aspect ratio.
  const side = Math.max(x1 - x0, y1 - y0) + 1;
  const left = x0 - (side - (x1 - x0 + 1)) / 2;
  const top = y0 - (side - (y1 - y0 + 1)) / 2;
  const sums = new Float32Array(BOX * BOX);
  const counts = new Float32Array(BOX * BOX);
  for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, top + side); y++) {
    const row = Math.min(BOX - 1, Math.floor(((y - top) * BOX) / side));
    for (let x = Math.max(0, Math.floor(left)); x < Math.min(width, left + side); x++) {
      const col = Math.min(BOX - 1, Math.floor(((x - left) * BOX) / side));
      sums[row * BOX + col] += pixels[4 * (y * width + x)] / 255;
      counts[row * BOX + col] += 1;
    }
  }
  let mass = 0, cx = 0, cy = 0;
  for (let i = 0; i < BOX * BOX; i++) {
    const value = counts[i] ? sums[i] / side ** 2 * BOX * BOX : 0;
    sums[i] = value;
    mass += value;
    cx += value * (i % BOX);
    cy += value * Math.floor(i / BOX);
  }
  // Shift so the centre of mass lands on the image centre (as MNIST was made).
  const dx = Math.round((SIDE - 1) / 2 - cx / mass);
  const dy = Math.round((SIDE - 1) / 2 - cy / mass);
  const image = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < BOX * BOX; i++) {
    const x = (i % BOX) + dx, y = Math.floor(i / BOX) + dy;
    if (x >= 0 && x < SIDE && y >= 0 && y < SIDE) image[y * SIDE + x] = Math.min(1, sums[i]);
  }
  return image;
}

function drawPreview(image) {
  const context = ui.preview.getContext("2d");
  const data = context.createImageData(SIDE, SIDE);
  image.forEach((value, i) => {
    data.data.set([value * 255, value * 255, value * 255, 255], 4 * i);
  });
  context.putImageData(data, 0, 0);
}

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
  const image = padToMNIST();
  if (!image) return;
  drawPreview(image);
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
    ui.timing.textContent = `prediction ${ms.toFixed(0)} ms`;
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
