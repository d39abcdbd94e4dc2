"""The small device interface the WebGPU backend is written against.

Two drivers implement it: `WgpuDriver` (wgpu-py, natively) and `BrowserDriver` (navigator.gpu in
the Pyodide worker, through web/gpu_bridge.js). Handles are plain ints, so the browser driver can
pass them across the Python/JS boundary cheaply.

Conventions every kernel follows (so one bind-group scheme serves all):
- entry point `main`; everything in `@group(0)`;
- `@binding(0)` is a `var<uniform>` params struct (every kernel declares and uses it);
- storage buffers follow at bindings 1..n, in the order they are passed to `dispatch`.

Ordering: `dispatch` and `copy` are queued and go to the GPU in one submit at `flush()`.
`write`, `read` and `read_many` flush queued work first, so they always see (and never
overtake) earlier ops.
"""


class Driver:
    #: e.g. "llvmpipe (LLVM 15.0.6, 256 bits) / Vulkan" or "swiftshader (google)"
    adapter_info = ""
    #: adapter limits used to pick tile sizes: maxComputeInvocationsPerWorkgroup,
    #: maxComputeWorkgroupSizeX, maxStorageBufferBindingSize, maxComputeWorkgroupsPerDimension
    limits = {}

    def create_buffer(self, nbytes):
        """A storage buffer (usage STORAGE | COPY_SRC | COPY_DST) -> handle."""
        raise NotImplementedError

    def destroy_buffer(self, handle):
        raise NotImplementedError

    def write(self, handle, data):
        """Upload bytes-like `data` (a C-contiguous ndarray) at offset 0. Flushes first."""
        raise NotImplementedError

    def read(self, handle, nbytes):
        """Synchronous readback of the first `nbytes` -> bytes. Flushes first."""
        raise NotImplementedError

    def create_uniform(self, data):
        """An immutable uniform buffer holding `data` (bytes) -> handle."""
        raise NotImplementedError

    def destroy_uniform(self, handle):
        raise NotImplementedError

    def create_pipeline(self, wgsl):
        """Compile a compute shader (entry point `main`) -> handle. Callers cache by source.
        Raises on a WGSL error."""
        raise NotImplementedError

    def create_pipelines(self, sources):
        """Compile several shaders -> their handles, in order. The browser driver compiles
        them side by side and waits once; here, one after another."""
        return [self.create_pipeline(wgsl) for wgsl in sources]

    def request_pipeline(self, wgsl):
        """A handle for `wgsl` that dispatches may name at once, its compile finished (or
        its WGSL error raised) by the next submit at the latest. The browser driver starts
        the compile and returns, so a first step's compiles overlap and it waits once; a
        driver whose compiles block just compiles."""
        return self.create_pipeline(wgsl)

    def dispatch(self, pipeline, uniform, buffers, groups):
        """Queue one dispatch: uniform at binding 0, `buffers` at 1..n, `groups` = (x, y, z)."""
        raise NotImplementedError

    def copy(self, src, dst, nbytes):
        """Queue a buffer-to-buffer copy."""
        raise NotImplementedError

    def read_many(self, reads):
        """Synchronous readback of several buffers, `reads` = (handle, nbytes) pairs -> their
        bytes, in order. Flushes first. One readback for all (one copy to a staging buffer,
        one map): a train step's loss and metrics come back together."""
        return [self.read(handle, nbytes) for handle, nbytes in reads]

    def flush(self):
        """Submit everything queued in one command buffer."""
        raise NotImplementedError

    def create_program(self, commands):
        """A recorded command list, encoded again at each `run_program` without Python
        rebuilding it: `("dispatch", pipeline, uniform, buffers, groups)` and
        `("copy", src, dst, nbytes)` tuples of handles -> program. Its bind groups are made
        here, once; the handles must outlive the program."""
        raise NotImplementedError

    def destroy_program(self, program):
        """Free what `create_program` made outside Python (the browser bridge holds its
        programs); a program that is a plain Python object needs nothing."""

    def run_program(self, program, writes=(), copies=()):
        """Upload `writes` ((handle, C-contiguous ndarray) pairs, with queue.writeBuffer),
        then encode whatever is queued, the program and then `copies` ((src, dst, nbytes)
        triples) into one command buffer: one submit."""
        raise NotImplementedError
