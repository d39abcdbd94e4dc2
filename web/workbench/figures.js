// The workbench's figures, under the output: model graphs from keras.utils.plot_model (drawn
// with Graphviz compiled to WebAssembly, /vendor/viz.js from npm @viz-js/viz) and what a
// classifier's evaluate found (a confusion matrix; for images, a grid of sample predictions).
// web/workbench_runtime.py sends them as "graph" and "evaluation" events.

const RASTER_TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg" };
const GRID_SCALE = 2; // sample images are small (28 px for MNIST): draw them bigger

let vizInstance = null;
function viz() {
  vizInstance ??= import("/vendor/viz.js").then((module) => module.instance());
  return vizInstance;
}

/** An SVG's text as a PNG/JPEG image (Uint8Array), through an <img> and a canvas. */
async function rasterize(svgText, type) {
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // JPEG has no transparency; PNG gets Graphviz's white too
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type));
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}

function figure(title, className) {
  const box = document.createElement("details");
  box.open = true;
  box.className = `figure ${className}`;
  const summary = document.createElement("summary");
  summary.textContent = title;
  box.append(summary);
  return box;
}

function confusionTable(matrix) {
  const table = document.createElement("table");
  table.className = "confusion";
  const peak = Math.max(1, ...matrix.flat());
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = "true \\ predicted";
  matrix.forEach((_, j) => (head.insertCell().textContent = j));
  const body = table.createTBody();
  matrix.forEach((row, i) => {
    const tr = body.insertRow();
    tr.insertCell().textContent = i;
    row.forEach((count, j) => {
      const cell = tr.insertCell();
      cell.textContent = count;
      const strength = count / peak;
      // Correct predictions in green, mistakes in red; darker for more samples.
      const hue = i === j ? 140 : 5;
      cell.style.background = count ? `hsl(${hue} 60% ${96 - 46 * strength}%)` : "";
      if (strength > 0.6) cell.style.color = "#fff";
    });
  });
  return table;
}

function sampleCanvas({ width, height, channels, pixels }) {
  const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0));
  const rgba = new ImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgba.data[4 * p + c] = bytes[p * channels + (channels === 3 ? c : 0)];
    rgba.data[4 * p + 3] = 255;
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * GRID_SCALE}px`;
  canvas.getContext("2d").putImageData(rgba, 0, 0);
  return canvas;
}

export class Figures {
  /** writeFile(path, bytes) puts a drawn image into the interpreter's filesystem. */
  constructor(element, { writeFile, note }) {
    this.element = element;
    this.writeFile = writeFile;
    this.note = note;
  }

  reset() {
    this.element.replaceChildren();
  }

  counts() {
    return {
      graphs: this.element.querySelectorAll(".figure.graph svg").length,
      evaluations: this.element.querySelectorAll(".figure.evaluation").length,
      samples: this.element.querySelectorAll(".figure.evaluation canvas").length,
    };
  }

  async graph({ dot, path, format }) {
    const box = figure(`Model graph · ${path.split("/").pop()}`, "graph");
    this.element.append(box);
    try {
      const result = (await viz()).render(dot, { format: "svg" });
      const errors = result.errors.filter((e) => e.level === "error");
      if (result.status !== "success" || errors.length) {
        throw new Error(errors.map((e) => e.message).join("; ") || "Graphviz failed");
      }
      const holder = document.createElement("div");
      holder.className = "graph-svg";
      holder.innerHTML = result.output; // Graphviz's SVG of text the runtime escaped
      box.append(holder);
      if (format === "svg") await this.writeFile(path, new TextEncoder().encode(result.output));
      else if (RASTER_TYPES[format]) {
        await this.writeFile(path, await rasterize(result.output, RASTER_TYPES[format]));
      } else if (!["dot", "gv", "raw"].includes(format)) {
        this.note(`plot_model: the tab draws svg, png and jpg files; ${path} was not written.`);
      }
    } catch (error) {
      box.append(Object.assign(document.createElement("pre"), { className: "t-stderr",
        textContent: `Drawing the model graph failed: ${error.message}` }));
    }
  }

  evaluation({ model, samples, accuracy, matrix, grid }) {
    const box = figure(`evaluate · ${model} · ${samples} samples · accuracy ` +
      `${(100 * accuracy).toFixed(2)}%`, "evaluation");
    const matrixBox = document.createElement("div");
    matrixBox.className = "confusion-box";
    matrixBox.append(Object.assign(document.createElement("div"),
      { className: "figure-caption", textContent: "Confusion matrix (rows: true class)" }),
    confusionTable(matrix));
    box.append(matrixBox);
    if (grid.length) {
      const samplesBox = document.createElement("div");
      samplesBox.className = "samples";
      for (const sample of grid) {
        const item = document.createElement("figure");
        item.dataset.correct = sample.predicted === sample.true;
        const caption = document.createElement("figcaption");
        caption.textContent = `pred ${sample.predicted} · true ${sample.true}`;
        item.append(sampleCanvas(sample), caption);
        samplesBox.append(item);
      }
      box.append(Object.assign(document.createElement("div"),
        { className: "figure-caption", textContent: "Sample predictions" }), samplesBox);
    }
    this.element.append(box);
  }
}
