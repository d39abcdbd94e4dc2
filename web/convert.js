// The convert page: sends the chosen files to POST /api/convert, lists the files of the zip
// it answers with (from its X-Webkeras-Files header), shows the converter's warnings (from
// X-Webkeras-Warnings) and offers the zip for download.

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("convert-form"),
  files: $("files"),
  output: $("output"),
  quantize: $("quantize"),
  shardSize: $("shard-size"),
  weightsOnly: $("weights-only"),
  convert: $("convert"),
  status: $("status"),
  limits: $("limits"),
  result: $("result"),
  resultTitle: $("result-title"),
  download: $("download"),
  rows: $("file-rows"),
  totalBytes: $("total-bytes"),
  totalSize: $("total-size"),
  error: $("error"),
  warnings: $("warnings"),
  warningList: $("warning-list"),
};

const FILES_HEADER = "X-Webkeras-Files";
const WARNINGS_HEADER = "X-Webkeras-Warnings";
const KERAS_SUFFIXES = [".keras", ".h5", ".hdf5"];
const TFJS_SUFFIXES = [".json", ".bin", ".zip"];
let limits = null;
let downloadUrl = null;

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(value < 10 ? 2 : 1))} ${units[unit]}`;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearResult() {
  ui.error.hidden = true;
  ui.result.hidden = true;
  ui.rows.replaceChildren();
  ui.warnings.hidden = true;
  ui.warningList.replaceChildren();
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
}

// "keras", "tfjs" or null, from the chosen files' names.
function inputKind(files) {
  const names = Array.from(files, (f) => f.name.toLowerCase());
  if (names.some((n) => KERAS_SUFFIXES.some((s) => n.endsWith(s)))) return "keras";
  if (names.some((n) => TFJS_SUFFIXES.some((s) => n.endsWith(s)))) return "tfjs";
  return null;
}

// Only the options that apply to this direction stay enabled (the server refuses the rest).
function updateOptions() {
  const kind = inputKind(ui.files.files);
  const toTfjs = kind !== "tfjs";
  ui.quantize.disabled = !toTfjs;
  ui.shardSize.disabled = !toTfjs;
  for (const option of ui.output.options) {
    option.disabled = option.value !== "" &&
      (kind === "keras" ? option.value !== "tfjs" : kind === "tfjs" && option.value === "tfjs");
  }
  if (ui.output.selectedOptions[0]?.disabled) ui.output.value = "";
  const total = Array.from(ui.files.files, (f) => f.size).reduce((a, b) => a + b, 0);
  const direction = { keras: "Keras → TF.js", tfjs: "TF.js → Keras" }[kind] || "";
  ui.status.textContent = ui.files.files.length
    ? `${ui.files.files.length} file(s), ${humanSize(total)}${direction ? " · " + direction : ""}`
    : "";
}

function formData() {
  const data = new FormData();
  for (const file of ui.files.files) data.append("files", file, file.name);
  for (const [name, input] of [["output", ui.output], ["quantize", ui.quantize],
    ["shard_size", ui.shardSize]]) {
    if (!input.disabled && input.value.trim()) data.append(name, input.value.trim());
  }
  if (ui.weightsOnly.checked) data.append("weights_only", "true");
  return data;
}

function downloadName(response) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  return match ? decodeURIComponent(match[1]) : "converted.zip";
}

function showFiles(listing, blob, name) {
  let total = 0;
  for (const file of listing) {
    const row = document.createElement("tr");
    const cells = [file.name, file.size.toLocaleString("en-US"), humanSize(file.size)];
    cells.forEach((text, i) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (i > 0) cell.className = "num";
      row.append(cell);
    });
    ui.rows.append(row);
    total += file.size;
  }
  ui.totalBytes.textContent = total.toLocaleString("en-US");
  ui.totalSize.textContent = humanSize(total);
  downloadUrl = URL.createObjectURL(blob);
  ui.download.href = downloadUrl;
  ui.download.download = name;
  ui.download.textContent = `Download ${name} (${humanSize(blob.size)})`;
  ui.resultTitle.textContent = `${listing.length} file(s)`;
  ui.result.hidden = false;
}

function showWarnings(messages) {
  for (const message of messages) {
    const item = document.createElement("li");
    item.textContent = message;
    ui.warningList.append(item);
  }
  ui.warnings.hidden = messages.length === 0;
}

async function errorText(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return `${response.status} ${body.error}: ${body.message}`;
  } catch {
    return `${response.status} ${response.statusText}: ${text.slice(0, 500)}`;
  }
}

async function convert(event) {
  event.preventDefault();
  clearResult();
  const files = Array.from(ui.files.files);
  if (!files.length) return showError("Choose the model file(s) first.");
  const total = files.reduce((sum, f) => sum + f.size, 0);
  if (limits?.max_upload_bytes && total > limits.max_upload_bytes) {
    return showError(`The files are ${humanSize(total)}; this server converts at most ` +
      `${humanSize(limits.max_upload_bytes)} per upload.`);
  }
  ui.convert.disabled = true;
  ui.status.textContent = "Converting…";
  const started = performance.now();
  try {
    const response = await fetch("/api/convert", { method: "POST", body: formData() });
    if (!response.ok) {
      showError(await errorText(response));
      ui.status.textContent = "Failed.";
      return;
    }
    const listing = JSON.parse(response.headers.get(FILES_HEADER) || "[]");
    const blob = await response.blob();
    showFiles(listing, blob, downloadName(response));
    showWarnings(JSON.parse(response.headers.get(WARNINGS_HEADER) || "[]"));
    ui.status.textContent = `Converted in ${((performance.now() - started) / 1000).toFixed(2)} s.`;
  } catch (error) {
    showError(`The request failed before the server answered: ${error.message}. ` +
      "Is the server running, and the upload within its size limit?");
    ui.status.textContent = "Failed.";
  } finally {
    ui.convert.disabled = false;
  }
}

async function loadLimits() {
  try {
    const response = await fetch("/api/convert");
    if (!response.ok) return;
    limits = await response.json();
    ui.limits.textContent = `Up to ${humanSize(limits.max_upload_bytes)} per upload.`;
    ui.shardSize.placeholder = String(limits.default_shard_size);
  } catch {
    // The form still works; the server enforces its limits itself.
  }
}

ui.files.addEventListener("change", () => {
  clearResult();
  updateOptions();
});
ui.form.addEventListener("submit", convert);
updateOptions();
loadLimits();
window.webkerasConvert = { ready: true };
