"""The WebGPU driver inside a browser tab: Pyodide in a Web Worker, through web/gpu_bridge.js.

The worker creates the GPUDevice and puts a `GPUBridge` on its global scope as
`webkerasGPU` (web/worker.js). This driver holds only int handles and talks to the bridge in
as few calls as possible, because each Python->JS call costs microseconds (ENVIRONMENT.md):

- `dispatch` and `copy` append ints to a Python list; `flush` packs the list into one int32
  array and hands the bridge its heap address: one call encodes the whole pass and submits.
- `write` and `create_uniform` pass the heap address of the data (no `to_js` copy); the bridge
  reads it through a view of the wasm memory.
- a recorded program (a traced step, trainers/webgpu_plan.py) is registered with the bridge
  once, its packed words and bind groups held there; `run_program` is then one call carrying
  only the step's uploads and the few copies around the program.
- a pipeline the backend asks for is requested (`request_pipeline`): the bridge starts its
  compile and answers its handle at once, and the driver waits for all compiles started so
  far just before it next encodes work (flush, program creation or run): a first step's
  pipelines compile side by side, with one wait, not one round trip each.
- `read` is synchronous for Python but asynchronous in JS: the bridge returns a Promise
  (copy to a staging buffer, `mapAsync`, copy into our bytearray) and `pyodide.ffi.run_sync`
  suspends Python with JSPI until it settles. This needs Python to have been entered with
  `runPythonAsync` (the worker does); the worker's event loop runs during the wait.
  `read_many` reads several buffers with one such wait (a step's loss and metrics).
"""

from array import array

import numpy as np

from webkeras.backend.webgpu.driver import Driver

# Must match OP_DISPATCH / OP_COPY in web/gpu_bridge.js.
OP_DISPATCH = 1
OP_COPY = 2


def _address(data):
    """(heap address, nbytes, keep-alive object) of a C-contiguous bytes-like object."""
    if isinstance(data, np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError(
                "BrowserDriver.write expects a C-contiguous array; received strides "
                f"{data.strides} for shape {data.shape}. Pass np.ascontiguousarray(x)."
            )
        view = data
    else:
        view = np.frombuffer(data, dtype=np.uint8)
    return view.__array_interface__["data"][0], view.nbytes, view


def _dispatch_words(pipeline, uniform, buffers, groups):
    x, y, z = (tuple(groups) + (1, 1))[:3]
    return (OP_DISPATCH, pipeline, uniform, len(buffers), *buffers, x, y, z)


def _default_bridge():
    import js

    bridge = getattr(js, "webkerasGPU", None)
    if bridge is None:
        raise RuntimeError(
            "No WebGPU bridge: `webkerasGPU` is not set on the worker's global scope. The "
            "webkeras worker (web/worker.js) sets it after requestDevice(); when running Python "
            "elsewhere in the browser, create a GPUBridge from web/gpu_bridge.js first, or use "
            "keras.backend.set_backend('numpy')."
        )
    return bridge


class BrowserDriver(Driver):
    """navigator.gpu through the JS bridge. See `Driver` for the interface."""

    def __init__(self, bridge=None):
        from pyodide.ffi import run_sync

        self._run_sync = run_sync
        self.bridge = bridge if bridge is not None else _default_bridge()
        # Bind the JS methods once: looking them up on each call costs more than calling them.
        self._create_buffer = self.bridge.createBuffer
        self._destroy_buffer = self.bridge.destroyBuffer
        self._write = self.bridge.write
        self._read_into = self.bridge.readInto
        self._create_uniform = self.bridge.createUniform
        self._destroy_uniform = self.bridge.destroyUniform
        self._create_pipeline = self.bridge.createPipeline
        self._create_pipelines = self.bridge.createPipelines
        self._request_pipeline = self.bridge.requestPipeline
        self._pipelines_ready = self.bridge.pipelinesReady
        self._read_many_into = self.bridge.readManyInto
        self._flush = self.bridge.flush
        self._create_program = self.bridge.createProgram
        self._destroy_program = self.bridge.destroyProgram
        self._run_program = self.bridge.runProgram
        self.limits = self.bridge.limits.to_py()
        info = self.bridge.adapterInfo.to_py()
        name = info.get("architecture") or info.get("description") or info.get("device") or "gpu"
        vendor = info.get("vendor") or "unknown vendor"
        self.adapter_info = f"{name} ({vendor})"
        self.is_fallback_adapter = bool(info.get("isFallbackAdapter"))
        self._commands = []
        # Whether pipelines were requested since the last wait (see `request_pipeline`).
        self._compiling = False

    # -- buffers -----------------------------------------------------------------------------
    def create_buffer(self, nbytes):
        return self._create_buffer(int(nbytes))

    def destroy_buffer(self, handle):
        self._destroy_buffer(handle)

    def write(self, handle, data):
        self.flush()
        ptr, nbytes, _keep = _address(data)
        self._write(handle, ptr, nbytes)

    def read(self, handle, nbytes):
        """Synchronous readback of the first `nbytes` -> bytearray (bytes-like)."""
        self.flush()
        out = bytearray(nbytes)
        if nbytes:
            ptr = np.frombuffer(out, dtype=np.uint8).__array_interface__["data"][0]
            self._run_sync(self._read_into(handle, nbytes, ptr))
        return out

    def read_many(self, reads):
        """One submit and one `mapAsync` for all `reads` ((handle, nbytes) pairs) -> a
        bytearray each."""
        self.flush()
        outs = [bytearray(nbytes) for _, nbytes in reads]
        words = array("I")
        for (handle, nbytes), out in zip(reads, outs):
            if nbytes:
                ptr = np.frombuffer(out, dtype=np.uint8).__array_interface__["data"][0]
                words.extend((handle, nbytes, ptr))
        if words:
            ptr, count = words.buffer_info()
            self._run_sync(self._read_many_into(ptr, count))
        return outs

    # -- uniforms and pipelines --------------------------------------------------------------
    def create_uniform(self, data):
        ptr, nbytes, _keep = _address(data)
        return self._create_uniform(ptr, nbytes)

    def destroy_uniform(self, handle):
        self._destroy_uniform(handle)

    def create_pipeline(self, wgsl):
        # Async compile: a WGSL error rejects with the compiler's messages and the numbered source.
        return self._run_sync(self._create_pipeline(wgsl))

    def create_pipelines(self, sources):
        return list(self._run_sync(self._create_pipelines(list(sources))).to_py())

    def request_pipeline(self, wgsl):
        # The bridge starts the compile and answers the handle at once; `_await_pipelines`
        # waits for every compile started so far before their dispatches are encoded.
        self._compiling = True
        return self._request_pipeline(wgsl)

    def _await_pipelines(self):
        if self._compiling:
            self._compiling = False
            self._run_sync(self._pipelines_ready())

    # -- command list ------------------------------------------------------------------------
    def dispatch(self, pipeline, uniform, buffers, groups):
        self._commands.extend(_dispatch_words(pipeline, uniform, buffers, groups))

    def copy(self, src, dst, nbytes):
        self._commands.extend((OP_COPY, src, dst, nbytes))

    # -- recorded programs -------------------------------------------------------------------
    def create_program(self, commands):
        """The bridge's handle of `commands` packed as the int32 words `flush` takes; the
        bridge makes the program's bind groups now and holds them."""
        words = array("i")
        for kind, *args in commands:
            words.extend(_dispatch_words(*args) if kind == "dispatch" else (OP_COPY, *args))
        self._await_pipelines()
        ptr, count = words.buffer_info()
        return self._create_program(ptr, count)

    def destroy_program(self, program):
        self._destroy_program(program)

    def run_program(self, program, writes=(), copies=()):
        # One call: the uploads (handle, heap address, nbytes), the commands queued so far,
        # then the copies after the program, as uint32 words (heap addresses may pass 2 GiB).
        words = array("I")
        keep = []
        for handle, data in writes:
            ptr, nbytes, view = _address(data)
            keep.append(view)
            words.extend((handle, ptr, nbytes))
        words.extend(self._commands)
        before = len(self._commands)
        self._commands = []
        for src, dst, nbytes in copies:
            words.extend((OP_COPY, src, dst, nbytes))
        self._await_pipelines()
        ptr, count = words.buffer_info()
        self._run_program(program, ptr, count, len(writes), before)

    def flush(self):
        if not self._commands:
            return
        words = array("i", self._commands)
        self._commands = []
        # After taking the queue: a failed compile drops the work that named it.
        self._await_pipelines()
        ptr, count = words.buffer_info()
        self._flush(ptr, count)
