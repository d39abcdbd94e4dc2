// cpu_replay.js: a model's predict on the page's own thread, from the plan the worker traced.
//
// On the NumPy backend a predict in the worker pays a message each way and the worker
// thread's wake-up, more than the MNIST CNN's kernels take at batch 1. When every call of a
// model's traced predict is one of our WASM SIMD kernels' (or a view, or softmax), the worker
// exports it (py/webkeras/trainers/plan_export.py: ops, buffers, weights) with the kernels'
// side module, and this file instantiates that module here and calls the same kernels:
//
//   const replay = await createCpuReplay(exported);   // web/model_api.py's export_plan value
//   if (replay.accepts(shape)) ({ data, shape } = replay.run(float32Data, shape));
//
// The module is an emscripten-style side module (-fPIC, --export-all): it imports its memory,
// __memory_base (where its data goes), __stack_pointer and __table_base; its dylink.0 section
// says how much data it has. Compiled modules are kept per sha256 (checked here too).

// Bytes below the module's data: address 0 stays unused (a null pointer).
const RESERVED_BYTES = 1024;
// The kernels' C stack (small local arrays, spills).
const STACK_BYTES = 1 << 20;
const PAGE_BYTES = 65536;
// The dylink.0 subsection giving the module's data size and alignment.
const DYLINK_MEM_INFO = 1;

const compiled = new Map(); // sha256 -> Promise<WebAssembly.Module>

const alignUp = (n, to) => Math.ceil(n / to) * to;

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The kernels' module, compiled once per sha256 after checking the bytes against it. */
function compileModule(bytes, sha256) {
  if (!compiled.has(sha256)) {
    compiled.set(sha256, sha256Hex(bytes).then((actual) => {
      if (actual !== sha256) {
        throw new Error(`cpu_replay: the kernels' module has sha256 ${actual}, expected ` +
          `${sha256} (recorded when it was built).`);
      }
      return WebAssembly.compile(bytes);
    }));
    compiled.get(sha256).catch(() => compiled.delete(sha256));
  }
  return compiled.get(sha256);
}

/** {size, align} of the module's data, from its dylink.0 section (LEB128 fields). */
function dataLayout(module) {
  const [section] = WebAssembly.Module.customSections(module, "dylink.0");
  if (!section) throw new Error("cpu_replay: the kernels' module has no dylink.0 section.");
  const bytes = new Uint8Array(section);
  let at = 0;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const kind = bytes[at++];
    const length = leb();
    if (kind === DYLINK_MEM_INFO) return { size: leb(), align: 2 ** leb() };
    at += length;
  }
  return { size: 0, align: 1 };
}

/** Instantiates `module` in a memory of its own: {exports, memory, heapStart}. */
async function instantiate(module) {
  const { size, align } = dataLayout(module);
  const memoryBase = alignUp(RESERVED_BYTES, Math.max(align, 16));
  const stackTop = alignUp(memoryBase + size + STACK_BYTES, 16);
  const memory = new WebAssembly.Memory({ initial: Math.ceil(stackTop / PAGE_BYTES) + 1 });
  const i32 = (value, mutable = false) => new WebAssembly.Global({ value: "i32", mutable }, value);
  const env = { memory, __memory_base: i32(memoryBase), __table_base: i32(0),
    __stack_pointer: i32(stackTop, true) };
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (from !== "env" || !(name in env)) {
      throw new Error(`cpu_replay: the kernels' module imports ${from}.${name}, which this ` +
        "loader does not provide.");
    }
  }
  const instance = await WebAssembly.instantiate(module, { env });
  const { exports } = instance;
  exports.__wasm_apply_data_relocs?.();
  exports.__wasm_call_ctors?.();
  return { exports, memory, heapStart: stackTop };
}

export async function createCpuReplay({ version, program, weights, module, sha256 }) {
  const spec = JSON.parse(program);
  const { exports, memory, heapStart } = await instantiate(await compileModule(module, sha256));
  for (const op of spec.ops) {
    if (op.call && typeof exports[op.call] !== "function") {
      throw new Error(`cpu_replay: the kernels' module has no ${op.call}.`);
    }
  }
  return new CpuReplay(spec, weights, exports, memory, heapStart, version);
}

/** One model's exported predict, bound to its own instance of the kernels. */
export class CpuReplay {
  constructor(spec, weights, exports, memory, heapStart, version) {
    this.spec = spec;
    this.version = version;
    this.exports = exports;
    this.memory = memory;
    this.sampleSize = spec.input.shape.reduce((a, b) => a * b, 1);
    this.outputSampleSize = spec.output.shape.reduce((a, b) => a * b, 1);
    // Weights and fixed scratch (packed kernels, the GEMM's workspace) once, below the
    // per-batch buffers.
    this.fixed = new Map(); // buffer index -> address
    let end = heapStart;
    spec.buffers.forEach((buffer, index) => {
      if (buffer.fixed === undefined) return;
      this.fixed.set(index, end);
      end = alignUp(end + buffer.fixed * 4, 16);
    });
    this.batchStart = end;
    this.#reserve(end);
    const heap = new Float32Array(memory.buffer);
    spec.buffers.forEach((buffer, index) => {
      if (buffer.weight != null) heap.set(weights[buffer.weight].data, this.fixed.get(index) / 4);
    });
    this.bound = null; // {batch, calls, input, output} for the last batch size run
  }

  #reserve(bytes) {
    const missing = bytes - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE_BYTES));
  }

  /** Whether `shape` is a batch of this model's input (of at most max_batch samples). */
  accepts(shape) {
    const sample = this.spec.input.shape;
    return shape.length === sample.length + 1 && shape[0] >= 1 &&
      shape[0] <= this.spec.max_batch &&
      sample.every((d, i) => d === shape[i + 1]);
  }

  /** The calls with their arguments resolved for `batch` samples. */
  #bind(batch) {
    const addresses = new Map(this.fixed);
    let end = this.batchStart;
    this.spec.buffers.forEach((buffer, index) => {
      if (buffer.sample === undefined) return;
      addresses.set(index, end);
      end = alignUp(end + buffer.sample * batch * 4, 16);
    });
    this.#reserve(end);
    const value = ([kind, v]) => (kind === "buffer" ? addresses.get(v)
      : kind === "batch" ? v * batch : v);
    const calls = this.spec.ops.map((op) => {
      if (op.call) return { fn: this.exports[op.call], args: op.args.map(value) };
      if (op.pad) {
        const [source, target, ...shapes] = op.pad;
        return { pad: [addresses.get(source), addresses.get(target), batch, ...shapes] };
      }
      const [source, target, cols] = op.softmax;
      const rows = (this.spec.buffers[source].sample * batch) / cols;
      return { softmax: [addresses.get(source), addresses.get(target), rows, cols] };
    });
    return { batch, calls, input: addresses.get(this.spec.input.buffer),
      output: addresses.get(this.spec.output.buffer) };
  }

  /** The model's output for `data` (float32, `shape` = [batch, ...input shape]). */
  run(data, shape) {
    const batch = shape[0];
    if (this.bound?.batch !== batch) this.bound = this.#bind(batch);
    const { calls, input, output } = this.bound;
    let heap = new Float32Array(this.memory.buffer);
    heap.set(data.subarray(0, batch * this.sampleSize), input / 4);
    for (const call of calls) {
      if (call.fn) call.fn(...call.args);
      else if (call.pad) zeroPad(heap, ...call.pad);
      else softmax(heap, ...call.softmax);
    }
    heap = new Float32Array(this.memory.buffer);
    const start = output / 4;
    return { data: heap.slice(start, start + batch * this.outputSampleSize),
      shape: [batch, ...this.spec.output.shape] };
  }
}

/**
 * Softmax over `rows` rows of `cols` floats, from byte address `source` to `target`, in
 * float32 steps as the NumPy backend computes it: exp(x - max) / sum.
 */
function softmax(heap, source, target, rows, cols) {
  const f32 = Math.fround;
  for (let row = 0; row < rows; row++) {
    const x = source / 4 + row * cols;
    const y = target / 4 + row * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) max = Math.max(max, heap[x + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      heap[y + j] = Math.exp(f32(heap[x + j] - max));
      sum = f32(sum + heap[y + j]);
    }
    for (let j = 0; j < cols; j++) heap[y + j] = heap[y + j] / sum;
  }
}

/**
 * Each of `batch` samples of shape `from` (at byte address `source`) written into zeros of
 * shape `to` (at `target`) at `offsets`: a convolution's padding="same".
 */
function zeroPad(heap, source, target, batch, from, to, offsets) {
  const size = (shape) => shape.reduce((a, b) => a * b, 1);
  // Trailing axes copied whole (same size, no offset) make one contiguous run.
  let axes = from.length;
  while (axes > 1 && from[axes - 1] === to[axes - 1] && offsets[axes - 1] === 0) axes -= 1;
  const run = size(from.slice(axes - 1));
  const outer = from.slice(0, axes - 1);
  const strides = to.map((_, i) => size(to.slice(i + 1)));
  const sampleFrom = size(from);
  const sampleTo = size(to);
  heap.fill(0, target / 4, target / 4 + batch * sampleTo);
  const index = new Array(outer.length).fill(0);
  for (let b = 0; b < batch; b++) {
    let read = source / 4 + b * sampleFrom;
    for (let r = 0; r < size(outer); r++) {
      let write = target / 4 + b * sampleTo + offsets[axes - 1] * strides[axes - 1];
      for (let i = 0; i < outer.length; i++) write += (index[i] + offsets[i]) * strides[i];
      heap.copyWithin(write, read, read + run);
      read += run;
      for (let i = outer.length - 1; i >= 0 && ++index[i] === outer[i]; i--) index[i] = 0;
    }
  }
}
