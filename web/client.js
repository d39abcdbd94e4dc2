// The one client of the webkeras worker (web/worker.js) that every page shares.
//
//   const client = new WorkerClient();
//   client.on("batch", (event) => ...);               // worker events by type
//   await client.boot({ backend: "auto", onProgress }); // -> {backend, bootSeconds, stages}
//   const value = await client.request("run", { code }); // one reply per request
//   client.terminate();                                 // a fresh one gives a fresh interpreter
//
// On a cross-origin-isolated page (COOP + COEP headers) the client also shares an interrupt
// buffer with Pyodide: `interrupt()` raises KeyboardInterrupt in whatever Python is running,
// even a plain loop that never yields to the worker's event loop.

const WORKER_URL = new URL("/static/worker.js", import.meta.url);
// Pyodide's interrupt buffer holds a signal number; 2 is SIGINT.
const SIGINT = 2;

export class WorkerClient {
  constructor() {
    this.worker = new Worker(WORKER_URL, { type: "module" });
    this.pending = new Map(); // request id -> {resolve, reject, onEvent}
    this.listeners = new Map(); // event type -> [handler]
    this.nextId = 1;
    this.interruptBuffer = self.crossOriginIsolated
      ? new Int32Array(new SharedArrayBuffer(4)) : null;
    this.worker.onmessage = ({ data }) => this.dispatch(data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      const where = event.filename ? ` (${event.filename}:${event.lineno})` : "";
      const message = `the worker failed: ${event.message ||
        `could not load ${WORKER_URL} or its imports`}${where}`;
      this.emit("error", { type: "error", message });
    };
  }

  /** Calls handler(event) for every worker event of this type ("*" for all). */
  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(handler);
    return this;
  }

  emit(type, event) {
    for (const handler of this.listeners.get(type) || []) handler(event);
    for (const handler of this.listeners.get("*") || []) handler(event);
  }

  dispatch(message) {
    if (message.type === "reply") {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) entry.reject(new Error(message.error));
      else entry.resolve(message.value);
      return;
    }
    if (message.id !== undefined) this.pending.get(message.id)?.onEvent?.(message);
    this.emit(message.type, message);
  }

  /**
   * Sends {type, ...args, id}; resolves with the worker's reply value. onEvent(event) gets the
   * events tagged with this request's id (progress, output).
   */
  request(type, args = {}, { transfer = [], onEvent } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ ...args, type, id }, transfer);
    });
  }

  /** A message without a reply (stop, dispose-model). */
  send(type, args = {}) {
    this.worker.postMessage({ ...args, type });
  }

  /**
   * Boots Pyodide + webkeras. onProgress({stage, percent, text}) as it goes. Resolves to
   * {backend, bootSeconds, stages, interruptible}; rejects with the boot's error.
   */
  boot({ backend = "auto", onProgress } = {}) {
    this.ready ??= new Promise((resolve, reject) => {
      const progress = (event) => onProgress?.(event);
      const done = (event) => (this.off("boot", progress), resolve(event));
      const failed = (event) => reject(new Error(event.message));
      this.on("boot", progress).once("ready", done).once("error", failed);
      if (this.interruptBuffer) this.interruptBuffer[0] = 0;
      this.worker.postMessage({ type: "boot", backend, interruptBuffer: this.interruptBuffer });
    });
    return this.ready;
  }

  off(type, handler) {
    const handlers = this.listeners.get(type) || [];
    const index = handlers.indexOf(handler);
    if (index >= 0) handlers.splice(index, 1);
    return this;
  }

  once(type, handler) {
    const wrapped = (event) => (this.off(type, wrapped), handler(event));
    return this.on(type, wrapped);
  }

  /** Asks a running fit to stop at its next batch. */
  stop() {
    this.send("stop");
  }

  /** Raises KeyboardInterrupt in the running Python; false where the page is not isolated. */
  interrupt() {
    if (!this.interruptBuffer) return false;
    this.interruptBuffer[0] = SIGINT;
    return true;
  }

  /** Ends the worker; every pending request rejects. */
  terminate(reason = "the worker was restarted") {
    this.worker.terminate();
    for (const entry of this.pending.values()) entry.reject(new Error(reason));
    this.pending.clear();
  }
}
