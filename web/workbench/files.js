// The workbench's files: the interpreter's working directory (/home/pyodide) listed with
// download and delete buttons, uploads into it, the user's models exported as .keras, .h5 or
// a TF.js zip, and a copy of the directory in IndexedDB, so files survive a reload and Restart.

const DB_NAME = "webkeras-workbench";
const STORE = "files"; // {path, bytes, size, mtime}
const BLOB_URL_LIFETIME_MS = 60_000;
const EXPORTS = [["keras", ".keras"], ["h5", ".h5"], ["tfjs", "TF.js zip"]];

const formatSize = (size) =>
  size < 1024 ? `${size} B` : size < 1 << 20 ? `${(size / 1024).toFixed(1)} KiB`
    : `${(size / (1 << 20)).toFixed(1)} MiB`;

/** The working directory's copy in IndexedDB. */
class FileStore {
  constructor() {
    this.db = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "path" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async transaction(mode, work) {
    const db = await this.db;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  all() {
    return this.transaction("readonly", (store) => store.getAll());
  }

  put(record) {
    return this.transaction("readwrite", (store) => store.put(record));
  }

  delete(path) {
    return this.transaction("readwrite", (store) => store.delete(path));
  }
}

function button(text, onClick, title) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "small";
  element.textContent = text;
  if (title) element.title = title;
  element.addEventListener("click", onClick);
  return element;
}

export class FilesPanel {
  /**
   * ui: {files, noFiles, models, upload}; client(): the current WorkerClient;
   * say(text, stream): a block in the output; busy(): whether a run is going on.
   */
  constructor(ui, { client, say, busy }) {
    this.ui = ui;
    this.client = client;
    this.say = say;
    this.busy = busy;
    this.store = new FileStore();
    this.known = new Map(); // path -> "size:mtime" as kept in IndexedDB
    this.models = [];
  }

  /** Writes the kept files into a fresh interpreter (after boot and Restart). */
  async restore() {
    let records = [];
    try {
      records = await this.store.all();
    } catch (error) {
      this.say(`The browser's file store (IndexedDB) is not available: ${error.message}`,
        "stderr");
    }
    for (const { path, bytes } of records) {
      await this.client().request("write-file", { path, bytes });
    }
    if (records.length) {
      this.say(`restored ${records.length} file(s) of the working directory from this browser`,
        "system");
    }
    // What was just written is what the store holds.
    const files = await this.client().request("list-files");
    this.known = new Map(files.map((f) => [f.path, `${f.size}:${f.mtime}`]));
    this.render(files);
  }

  /** Lists the working directory and copies what changed into IndexedDB. */
  async refresh() {
    let files;
    try {
      files = await this.client().request("list-files");
    } catch (error) {
      console.warn("workbench: listing files failed", error);
      return;
    }
    this.render(files);
    await this.persist(files);
  }

  async persist(files) {
    const present = new Set();
    try {
      for (const { path, size, mtime } of files) {
        present.add(path);
        const stamp = `${size}:${mtime}`;
        if (this.known.get(path) === stamp) continue;
        const bytes = await this.client().request("read-file", { path });
        await this.store.put({ path, bytes, size, mtime });
        this.known.set(path, stamp);
      }
      for (const path of [...this.known.keys()].filter((p) => !present.has(p))) {
        await this.store.delete(path);
        this.known.delete(path);
      }
    } catch (error) {
      console.warn("workbench: keeping the files in IndexedDB failed", error);
    }
    this.ui.files.dataset.persisted = this.known.size;
  }

  render(files) {
    const body = this.ui.files.tBodies[0];
    body.replaceChildren(...files.map(({ path, size }) => {
      const row = document.createElement("tr");
      row.dataset.path = path;
      row.insertCell().textContent = path;
      const sizeCell = row.insertCell();
      sizeCell.className = "muted";
      sizeCell.textContent = formatSize(size);
      row.insertCell().append(button("Download", () => this.download(path)),
        button("×", () => this.remove(path), `Delete ${path}`));
      return row;
    }));
    this.ui.noFiles.hidden = files.length > 0;
    this.ui.files.dataset.count = files.length;
  }

  async download(path) {
    try {
      const bytes = await this.client().request("read-file", { path });
      const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = path.split("/").pop();
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
    } catch (error) {
      this.say(`Download failed: ${error.message}`, "stderr");
    }
  }

  async remove(path) {
    try {
      await this.client().request("delete-file", { path });
    } catch (error) {
      this.say(`Deleting ${path} failed: ${error.message}`, "stderr");
    }
    await this.refresh();
  }

  /** Puts a file (a drawn model graph) into the working directory. */
  async write(path, bytes) {
    await this.client().request("write-file", { path, bytes }, { transfer: [bytes.buffer] });
    await this.refresh();
  }

  async upload(fileList) {
    for (const file of fileList) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      try {
        await this.client().request("write-file", { path: file.name, bytes },
          { transfer: [bytes.buffer] });
        this.say(`uploaded ${file.name} (${formatSize(file.size)}) to /home/pyodide/${file.name}`,
          "system");
        await this.inspect(file.name);
      } catch (error) {
        this.say(`Upload of ${file.name} failed: ${error.message}`, "stderr");
      }
    }
    this.ui.upload.value = "";
    await this.refresh();
  }

  /** Says what an upload holds: a model that loads, or why it does not. */
  async inspect(path) {
    if (this.busy()) return; // the worker runs one Python call at a time
    const { ok, text } = await this.client().request("call",
      { module: "workbench_runtime", func: "inspect_upload", args: [path] });
    if (text) this.say(text, ok ? "system" : "stderr");
  }

  /** The user's models (from the last run's reply), each with export buttons. */
  showModels(models) {
    this.models = models || [];
    const body = this.ui.models.tBodies[0];
    body.replaceChildren(...this.models.map(({ name, type, params }) => {
      const row = document.createElement("tr");
      row.dataset.model = name;
      row.insertCell().textContent = name;
      const info = row.insertCell();
      info.className = "muted";
      info.textContent = `${type} · ${params.toLocaleString()} params`;
      row.insertCell().append(...EXPORTS.map(([format, label]) =>
        button(label, () => this.exportModel(name, format), `Save ${name} and download it`)));
      return row;
    }));
    this.ui.models.hidden = this.models.length === 0;
    this.setBusy(this.busy());
  }

  setBusy(on) {
    for (const element of this.ui.models.querySelectorAll("button")) element.disabled = on;
  }

  async exportModel(name, format) {
    try {
      const path = await this.client().request("call",
        { module: "workbench_runtime", func: "export_model", args: [name, format] });
      await this.refresh();
      await this.download(path);
    } catch (error) {
      this.say(`Saving ${name} as ${format} failed: ${error.message}`, "stderr");
    }
  }
}
