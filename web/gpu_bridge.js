// The JS half of webkeras's browser WebGPU driver (py/webkeras/backend/webgpu/browser_driver.py).
//
// Python holds only int handles. Everything a step needs crosses the boundary in a few calls:
// dispatches and copies are packed by Python into one Int32Array that `flush` encodes into one
// compute pass and one submit (per-dispatch Python->JS calls cost 10-25 us each, see
// ENVIRONMENT.md). Uploads read straight from the wasm heap (no to_js copy).
//
// Command list format (int32 words), as written by browser_driver.py:
//   OP_DISPATCH, pipeline, uniform, nBuffers, buffer_1 .. buffer_n, groupsX, groupsY, groupsZ
//   OP_COPY,     src, dst, nbytes
//
// A recorded program (a traced train step, trainers/webgpu_plan.py) is such a list registered
// once with `createProgram`: its bind groups are made then and held by the program, so
// `runProgram` replays a whole step in one call, one command buffer, one submit.
//
// Storage and uniform buffers share one handle table, so an upload (`write`, a program run's
// writes) may target either.

import {
  MAX_WARM_PIPELINES,
  adapterInfoOf,
  compilePipeline,
  savePipelineList,
} from "./gpu_device.js";

export const OP_DISPATCH = 1;
export const OP_COPY = 2;

// Usage flags are read lazily: GPUBufferUsage is undefined where WebGPU is missing, and this
// module must still load there (the numpy backend does not need it).
const usage = () => ({
  storage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  uniform: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  staging: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
});

// Handle tables: slot 0 is never used, so 0 can mean "none" on the Python side.
class HandleTable {
  constructor() {
    this.items = [null];
    this.free = [];
  }
  add(item) {
    const handle = this.free.length ? this.free.pop() : this.items.length;
    this.items[handle] = item;
    return handle;
  }
  get(handle, kind) {
    const item = this.items[handle];
    if (!item) throw new Error(`webkeras gpu bridge: unknown ${kind} handle ${handle}`);
    return item;
  }
  remove(handle) {
    const item = this.items[handle];
    this.items[handle] = null;
    if (item) this.free.push(handle);
    return item;
  }
}

// Pooled buffers meet in ever new combinations; past this many cached bind groups, start over
// (a bind group is cheap to recreate, an unbounded map is a leak over a long run).
const MAX_BIND_GROUPS = 4096;

const align4 = (n) => Math.max(4, Math.ceil(n / 4) * 4);
const align16 = (n) => Math.max(16, Math.ceil(n / 16) * 16);
export class GPUBridge {
  /**
   * @param {GPUAdapter} adapter
   * @param {GPUDevice} device
   * @param {() => Uint8Array} heap  returns the current wasm heap view (pyodide._module.HEAPU8);
   *     a function because the view is replaced when the wasm memory grows.
   */
  constructor(adapter, device, heap) {
    this.device = device;
    this.heap = heap;
    this.usage = usage();
    this.adapterInfo = adapterInfoOf(adapter);
    this.limits = {};
    for (const key in device.limits) this.limits[key] = device.limits[key];
    this.buffers = new HandleTable(); // storage and uniform GPUBuffers
    this.pipelines = new HandleTable();
    this.programs = new HandleTable();
    this.bindGroups = new Map(); // key "p,u,b1,b2.." -> GPUBindGroup
    this.keysByBuffer = new Map(); // buffer handle -> Set of the bind-group keys using it
    this.staging = new Map(); // size -> [GPUBuffer] (free MAP_READ buffers)
    this.errors = [];
    // submits counts every queue submit (flushes, program runs and readbacks' copies).
    this.stats = {
      flushes: 0,
      programRuns: 0,
      submits: 0,
      dispatches: 0,
      reads: 0,
      bindGroupsCreated: 0,
      programs: 0,
      // pipelines compiled, the sum of their compile times (each from its request to its
      // result), and how often / how long Python waited for requested ones (pipelinesReady).
      pipelines: 0,
      pipelineCompileMs: 0,
      pipelineWaits: 0,
      pipelineWaitMs: 0,
      // pipelines the worker started at boot, and requests they answered.
      warmPipelines: 0,
      warmHits: 0,
      // readMany calls (each one submit and one mapAsync, however many buffers it reads).
      packedReads: 0,
    };
    this.compiling = []; // requestPipeline compiles not yet awaited by pipelinesReady
    this.warm = new Map(); // WGSL -> Promise of an entry compiled at boot (adoptWarmPipelines)
    this.used = new Set(); // the WGSL this session compiled, in order (the next warm start)
    this.usedUnsaved = false;
    device.addEventListener("uncapturederror", (event) => {
      // Reported to Python at the next read, so a failed kernel raises instead of reading zeros.
      this.errors.push(event.error.message);
      console.error("webkeras WebGPU error:", event.error.message);
    });
  }

  // -- buffers -----------------------------------------------------------------------------
  createBuffer(nbytes) {
    const buffer = this.device.createBuffer({ size: align4(nbytes), usage: this.usage.storage });
    return this.buffers.add(buffer);
  }

  destroyBuffer(handle) {
    this._forgetBindGroups(handle);
    const buffer = this.buffers.remove(handle);
    if (buffer) buffer.destroy();
  }

  /** Upload `nbytes` from the wasm heap at byte address `ptr` into buffer `handle` at 0. */
  write(handle, ptr, nbytes) {
    const buffer = this.buffers.get(handle, "buffer");
    this._writeFromHeap(buffer, ptr, nbytes);
  }

  _writeFromHeap(buffer, ptr, nbytes) {
    if (nbytes === 0) return;
    const heap = this.heap();
    const whole = nbytes & ~3;
    // writeBuffer copies synchronously into the queue's staging memory: a heap view is safe.
    if (whole) this.device.queue.writeBuffer(buffer, 0, heap, ptr, whole);
    if (whole !== nbytes) {
      // writeBuffer needs a multiple of 4 bytes: pad the tail.
      const tail = new Uint8Array(4);
      tail.set(heap.subarray(ptr + whole, ptr + nbytes));
      this.device.queue.writeBuffer(buffer, whole, tail);
    }
  }

  /**
   * Read the first `nbytes` of buffer `handle` into the wasm heap at `ptr`.
   * Returns a Promise that Python awaits with pyodide.ffi.run_sync. Rejects with the WebGPU
   * errors seen since the last read, if any.
   */
  async readInto(handle, nbytes, ptr) {
    const source = this.buffers.get(handle, "buffer");
    const size = align4(nbytes);
    const stagingList = this.staging.get(size) || [];
    const staging =
      stagingList.pop() || this.device.createBuffer({ size, usage: this.usage.staging });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    this.stats.reads += 1;
    this.stats.submits += 1;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (error) {
      staging.destroy();
      throw new Error(this._errorText(`readback of buffer ${handle} failed: ${error.message}`));
    }
    // Take the heap view after the await: the wasm memory may have grown meanwhile.
    this.heap().set(new Uint8Array(staging.getMappedRange(0, size), 0, nbytes), ptr);
    staging.unmap();
    stagingList.push(staging);
    this.staging.set(size, stagingList);
    if (this.errors.length) throw new Error(this._errorText("WebGPU reported errors"));
  }

  /**
   * Read several buffers with one submit and one mapAsync (a train step's loss and metrics):
   * the `count` uint32 words at heap address `ptr` are triples (buffer handle, nbytes, heap
   * address to copy them to), copied side by side into one staging buffer. A Promise, as
   * `readInto`.
   */
  async readManyInto(ptr, count) {
    // A copy: the heap view is stale once the wasm memory grows during the await.
    const words = new Uint32Array(this.heap().buffer, ptr, count).slice();
    const offsets = [];
    let size = 0;
    for (let i = 0; i < count; i += 3) {
      offsets.push(size);
      size += align4(words[i + 1]);
    }
    const stagingList = this.staging.get(size) || [];
    const staging =
      stagingList.pop() || this.device.createBuffer({ size, usage: this.usage.staging });
    const encoder = this.device.createCommandEncoder();
    for (let i = 0; i < count; i += 3) {
      const source = this.buffers.get(words[i], "buffer");
      encoder.copyBufferToBuffer(source, 0, staging, offsets[i / 3], align4(words[i + 1]));
    }
    this.device.queue.submit([encoder.finish()]);
    this.stats.reads += 1;
    this.stats.packedReads += 1;
    this.stats.submits += 1;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (error) {
      staging.destroy();
      throw new Error(this._errorText(`readback of ${count / 3} buffers failed: ${error.message}`));
    }
    const mapped = new Uint8Array(staging.getMappedRange(0, size));
    const heap = this.heap(); // after the await: the wasm memory may have grown meanwhile
    for (let i = 0; i < count; i += 3) {
      const at = offsets[i / 3];
      heap.set(mapped.subarray(at, at + words[i + 1]), words[i + 2]);
    }
    staging.unmap();
    stagingList.push(staging);
    this.staging.set(size, stagingList);
    if (this.errors.length) throw new Error(this._errorText("WebGPU reported errors"));
  }

  _errorText(prefix) {
    const errors = this.errors.splice(0);
    return errors.length ? `${prefix}:\n${errors.join("\n")}` : prefix;
  }

  // -- uniforms ----------------------------------------------------------------------------
  createUniform(ptr, nbytes) {
    const buffer = this.device.createBuffer({ size: align16(nbytes), usage: this.usage.uniform });
    this._writeFromHeap(buffer, ptr, nbytes);
    return this.buffers.add(buffer);
  }

  destroyUniform(handle) {
    this.destroyBuffer(handle);
  }

  // -- pipelines ---------------------------------------------------------------------------
  /** Compile a compute shader. Returns a Promise of the handle; rejects with compiler messages. */
  async createPipeline(wgsl) {
    const handle = this.pipelines.add(await this._compile(wgsl));
    this._saveUsed();
    return handle;
  }

  /**
   * Compile many shaders at once (their compiles overlap; one wait instead of one per shader).
   * Returns a Promise of their handles, in order; rejects with the first compiler error.
   */
  async createPipelines(sources) {
    const compiled = await Promise.all(Array.from(sources, (wgsl) => this._compile(wgsl)));
    this._saveUsed();
    return compiled.map((entry) => this.pipelines.add(entry));
  }

  /**
   * Start compiling a shader and return its handle at once (no await): dispatches may name it
   * right away, and `pipelinesReady()` must settle before they are encoded (flush, program
   * creation or run). Python records a whole first step this way, then waits once for all of
   * its compiles, which run side by side.
   */
  requestPipeline(wgsl) {
    const handle = this.pipelines.add({ pending: true });
    const compile = this._compile(wgsl).then(
      (entry) => void (this.pipelines.items[handle] = entry),
      (error) => {
        this.pipelines.items[handle] = { failed: error.message };
        throw error;
      },
    );
    this.compiling.push(compile);
    return handle;
  }

  /** A Promise that settles when every `requestPipeline` compile so far has; rejects with the
   * first failure (its compiler messages and numbered source). */
  async pipelinesReady() {
    const compiling = this.compiling.splice(0);
    if (!compiling.length) return;
    const started = performance.now();
    this.stats.pipelineWaits += 1;
    try {
      await Promise.all(compiling);
    } finally {
      this.stats.pipelineWaitMs += performance.now() - started;
      this._saveUsed();
    }
  }

  /** {pipeline, layout} of `wgsl`: one the worker started compiling at boot (the last
   * session's kernels, `startWarmPipelines`) or a new compile. */
  async _compile(wgsl) {
    this._remember(wgsl);
    const warm = this.warm.get(wgsl);
    if (warm) {
      this.warm.delete(wgsl);
      const entry = await warm;
      if (entry) {
        this.stats.warmHits += 1;
        return entry;
      }
    }
    const started = performance.now();
    const entry = await compilePipeline(this.device, wgsl);
    this.stats.pipelines += 1;
    this.stats.pipelineCompileMs += performance.now() - started;
    return entry;
  }

  /** Adopt the compiles `startWarmPipelines` began (a Map: WGSL -> Promise of an entry). */
  adoptWarmPipelines(warm) {
    if (!warm) return;
    this.warm = warm;
    this.stats.warmPipelines = warm.size;
  }

  /** Note `wgsl` for the next session's warm start (saved by `_saveUsed`). */
  _remember(wgsl) {
    if (this.used.has(wgsl)) return;
    this.used.add(wgsl);
    this.usedUnsaved = true;
  }

  /** Save the list once the compiles a caller waited for are done (not on the hot path:
   * a page may be closed soon after its first predict, so no long delay either). */
  _saveUsed() {
    if (!this.usedUnsaved) return;
    this.usedUnsaved = false;
    savePipelineList(this.adapterInfo, [...this.used].slice(-MAX_WARM_PIPELINES));
  }

  // -- command lists -----------------------------------------------------------------------
  /** Encode and submit the `count` int32 commands at heap address `ptr` (one submit). */
  flush(ptr, count) {
    if (count === 0) return;
    const words = new Int32Array(this.heap().buffer, ptr, count);
    const encoder = this.device.createCommandEncoder();
    this._encodeWords(encoder, words, 0, count);
    this._submit(encoder);
    this.stats.flushes += 1;
  }

  _submit(encoder) {
    this.device.queue.submit([encoder.finish()]);
    this.stats.submits += 1;
  }

  /** Encode words[start, end) into `encoder`, one compute pass per run of dispatches. */
  _encodeWords(encoder, words, start, end) {
    let pass = null;
    let i = start;
    while (i < end) {
      const op = words[i];
      if (op === OP_DISPATCH) {
        const nBuffers = words[i + 3];
        const bindGroup = this._cachedBindGroup(words, i + 1, nBuffers);
        const g = i + 4 + nBuffers;
        if (!pass) pass = encoder.beginComputePass();
        pass.setPipeline(this.pipelines.get(words[i + 1], "pipeline").pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(words[g], words[g + 1], words[g + 2]);
        this.stats.dispatches += 1;
        i = g + 3;
      } else if (op === OP_COPY) {
        if (pass) {
          pass.end();
          pass = null;
        }
        const src = this.buffers.get(words[i + 1], "buffer");
        const dst = this.buffers.get(words[i + 2], "buffer");
        encoder.copyBufferToBuffer(src, 0, dst, 0, align4(words[i + 3]));
        i += 4;
      } else {
        throw new Error(`webkeras gpu bridge: bad command ${op} at word ${i} of ${end}`);
      }
    }
    if (pass) pass.end();
  }

  // -- recorded programs -------------------------------------------------------------------
  /**
   * Register the `count` command words at heap address `ptr` as a program -> handle. Its
   * bind groups are made here and held by the program (not the shared cache, which a large
   * step would overflow); the buffers it names must outlive it (destroyProgram).
   */
  createProgram(ptr, count) {
    const words = new Int32Array(this.heap().buffer, ptr, count);
    const steps = [];
    let i = 0;
    while (i < count) {
      const op = words[i];
      if (op === OP_DISPATCH) {
        const nBuffers = words[i + 3];
        const g = i + 4 + nBuffers;
        steps.push({
          pipeline: this.pipelines.get(words[i + 1], "pipeline").pipeline,
          bindGroup: this._newBindGroup(words, i + 1, nBuffers),
          x: words[g],
          y: words[g + 1],
          z: words[g + 2],
        });
        i = g + 3;
      } else if (op === OP_COPY) {
        steps.push({
          src: this.buffers.get(words[i + 1], "buffer"),
          dst: this.buffers.get(words[i + 2], "buffer"),
          size: align4(words[i + 3]),
        });
        i += 4;
      } else {
        throw new Error(`webkeras gpu bridge: bad command ${op} at word ${i} of ${count}`);
      }
    }
    this.stats.programs += 1;
    const dispatches = steps.filter((step) => step.bindGroup).length;
    return this.programs.add({ steps, dispatches });
  }

  destroyProgram(handle) {
    if (this.programs.remove(handle)) this.stats.programs -= 1;
  }

  /**
   * Run program `handle` in one submit. The `count` uint32 words at `ptr` are: `nWrites`
   * uploads (buffer handle, heap address, nbytes), done first with queue.writeBuffer; then
   * `nBefore` command words queued before the program (encoded ahead of it); then command
   * words encoded after it (the step's output copies).
   */
  runProgram(handle, ptr, count, nWrites, nBefore) {
    const { steps, dispatches } = this.programs.get(handle, "program");
    const words = new Uint32Array(this.heap().buffer, ptr, count);
    const writesEnd = 3 * nWrites;
    for (let i = 0; i < writesEnd; i += 3) {
      this._writeFromHeap(this.buffers.get(words[i], "buffer"), words[i + 1], words[i + 2]);
    }
    const encoder = this.device.createCommandEncoder();
    this._encodeWords(encoder, words, writesEnd, writesEnd + nBefore);
    let pass = null;
    for (const step of steps) {
      if (step.bindGroup) {
        if (!pass) pass = encoder.beginComputePass();
        pass.setPipeline(step.pipeline);
        pass.setBindGroup(0, step.bindGroup);
        pass.dispatchWorkgroups(step.x, step.y, step.z);
      } else {
        if (pass) {
          pass.end();
          pass = null;
        }
        encoder.copyBufferToBuffer(step.src, 0, step.dst, 0, step.size);
      }
    }
    if (pass) pass.end();
    this._encodeWords(encoder, words, writesEnd + nBefore, count);
    this._submit(encoder);
    this.stats.dispatches += dispatches;
    this.stats.programRuns += 1;
  }

  // -- bind groups ---------------------------------------------------------------------------
  /** The cached bind group for words[at] = pipeline, uniform, nBuffers, buffers... */
  _cachedBindGroup(words, at, nBuffers) {
    const end = at + 3 + nBuffers;
    let key = "";
    for (let j = at; j < end; j++) key += words[j] + ",";
    let group = this.bindGroups.get(key);
    if (group) return group;
    group = this._newBindGroup(words, at, nBuffers);
    if (this.bindGroups.size >= MAX_BIND_GROUPS) {
      this.bindGroups.clear();
      this.keysByBuffer.clear();
    }
    this.bindGroups.set(key, group);
    for (let j = at + 1; j < end; j++) {
      if (j === at + 2) continue; // the buffer count
      let keys = this.keysByBuffer.get(words[j]);
      if (!keys) this.keysByBuffer.set(words[j], (keys = new Set()));
      keys.add(key);
    }
    return group;
  }

  /** A new bind group: the uniform at binding 0, the storage buffers at 1..n. */
  _newBindGroup(words, at, nBuffers) {
    const uniform = this.buffers.get(words[at + 1], "uniform");
    const entries = [{ binding: 0, resource: { buffer: uniform } }];
    for (let b = 0; b < nBuffers; b++) {
      const buffer = this.buffers.get(words[at + 3 + b], "buffer");
      entries.push({ binding: b + 1, resource: { buffer } });
    }
    const { layout } = this.pipelines.get(words[at], "pipeline");
    this.stats.bindGroupsCreated += 1;
    return this.device.createBindGroup({ layout, entries });
  }

  _forgetBindGroups(handle) {
    const keys = this.keysByBuffer.get(handle);
    if (!keys) return;
    for (const key of keys) this.bindGroups.delete(key);
    this.keysByBuffer.delete(handle);
  }
}
