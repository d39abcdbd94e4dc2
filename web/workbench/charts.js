// Live charts of a fit: one chart per History key (`loss`, `accuracy`, ...), the training curve
// from batch logs and the validation curve (`val_<key>`) from epoch logs, x in epochs.
// Chart.js (build/vendor/chart.umd.min.js) is loaded by the page as a classic script.

const REDRAW_MS = 250;
const COLORS = { train: "#2a6fdb", val: "#d0471f" };

export class LiveCharts {
  constructor(container) {
    this.container = container;
    this.charts = new Map(); // key -> {chart, train: [], val: []}
    this.steps = 0;
    this.timer = null;
  }

  /** A new fit: forget the previous one's charts. */
  reset({ steps = 0 } = {}) {
    for (const { chart } of this.charts.values()) chart.destroy();
    this.charts.clear();
    this.container.replaceChildren();
    this.steps = steps;
  }

  chartFor(key) {
    if (this.charts.has(key)) return this.charts.get(key);
    const box = document.createElement("div");
    box.className = "chart-box";
    box.dataset.key = key;
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `${key} per epoch`);
    box.append(canvas);
    // The loss first, the rest in the order they appear.
    if (key === "loss") this.container.prepend(box);
    else this.container.append(box);
    const entry = { train: [], val: [], chart: null };
    entry.chart = new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: key, data: entry.train, borderColor: COLORS.train,
            backgroundColor: COLORS.train, pointRadius: 0 },
          { label: `val_${key}`, data: entry.val, borderColor: COLORS.val,
            backgroundColor: COLORS.val, pointRadius: 3 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        elements: { line: { borderWidth: 2 } },
        interaction: { mode: "nearest", axis: "x", intersect: false },
        plugins: {
          title: { display: true, text: key },
          // A curve without points (no validation data) gets no legend entry.
          legend: { labels: { boxWidth: 12,
            filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        },
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: "epoch" } },
          y: { type: "linear", beginAtZero: /loss|error/.test(key) },
        },
      },
    });
    this.charts.set(key, entry);
    return entry;
  }

  x(epoch, batch) {
    return this.steps ? epoch + (batch + 1) / this.steps : batch + 1;
  }

  batch({ epoch, batch, logs }) {
    for (const [key, value] of Object.entries(logs || {})) {
      if (value == null || key.startsWith("val_")) continue;
      this.chartFor(key).train.push({ x: this.x(epoch, batch), y: value });
    }
    this.schedule();
  }

  epoch({ epoch, logs }) {
    for (const [key, value] of Object.entries(logs || {})) {
      if (value == null) continue;
      if (key.startsWith("val_")) this.chartFor(key.slice(4)).val.push({ x: epoch + 1, y: value });
      else {
        // Keys without batch logs (e.g. learning_rate) get one point per epoch.
        const entry = this.chartFor(key);
        const last = entry.train[entry.train.length - 1];
        if (!last || last.x < epoch + 1 - 1e-9) entry.train.push({ x: epoch + 1, y: value });
      }
    }
    this.schedule();
  }

  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => this.draw(), REDRAW_MS);
  }

  draw() {
    clearTimeout(this.timer);
    this.timer = null;
    for (const { chart } of this.charts.values()) chart.update("none");
  }

  /** {key: [training points, validation points]} (tests read it). */
  counts() {
    return Object.fromEntries([...this.charts].map(([key, e]) => [key, [e.train.length, e.val.length]]));
  }
}
