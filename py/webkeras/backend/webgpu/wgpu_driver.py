"""`WgpuDriver`: the Driver interface on wgpu-py (native Vulkan/Metal/D3D, lavapipe here)."""

import collections

from webkeras.backend.webgpu.driver import Driver

# Limits raised from the WebGPU defaults to what the adapter offers: big storage bindings for
# large tensors, big workgroups for the tile-size choice.
_RAISED_LIMITS = (
    "max-storage-buffer-binding-size",
    "max-buffer-size",
    "max-compute-invocations-per-workgroup",
    "max-compute-workgroup-size-x",
    "max-compute-workgroup-size-y",
    "max-compute-workgroup-storage-size",
    "max-storage-buffers-per-shader-stage",
)
# Queued commands past this are submitted, so an op loop without readback keeps memory flat.
_MAX_QUEUED = 4096
_BIND_GROUP_CACHE = 8192


def _camel(name):
    head, *rest = name.split("-")
    return head + "".join(word.title() for word in rest)


class WgpuDriver(Driver):
    def __init__(self, power_preference="high-performance"):
        import wgpu

        self._wgpu = wgpu
        adapter = wgpu.gpu.request_adapter_sync(power_preference=power_preference)
        if adapter is None:
            raise RuntimeError(
                "No WebGPU adapter found by wgpu-py. Install a Vulkan driver "
                "(e.g. `apt-get install mesa-vulkan-drivers`) or use WEBKERAS_BACKEND=numpy."
            )
        offered = dict(adapter.limits)
        wanted = {name: offered[name] for name in _RAISED_LIMITS if name in offered}
        self.device = adapter.request_device_sync(required_limits=wanted)
        info = adapter.info
        self.adapter_info = f"{info['device']} / {info['backend_type']} ({info['adapter_type']})"
        self.limits = {_camel(name): value for name, value in dict(self.device.limits).items()}
        self._objects = {}
        self._next = 1
        self._queue = []  # ("dispatch", pipeline, bind_group, groups) | ("copy", src, dst, n)
        self._pending_destroy = []
        self._bind_groups = {}
        self._groups_of = collections.defaultdict(set)  # handle -> bind-group keys using it
        self._staging = None
        #: Queue submits and dispatches so far (tests and benchmarks count them).
        self.submits = 0
        self.dispatches = 0

    # -- handles -----------------------------------------------------------------------------
    def _add(self, obj):
        handle = self._next
        self._next += 1
        self._objects[handle] = obj
        return handle

    def _destroy(self, handle):
        buffer = self._objects.pop(handle)
        for key in self._groups_of.pop(handle, ()):
            self._bind_groups.pop(key, None)
        # A destroyed buffer must not be in a command buffer still to be submitted.
        if self._queue:
            self._pending_destroy.append(buffer)
        else:
            buffer.destroy()

    @property
    def buffer_count(self):
        """Live storage + uniform buffers (for leak tests)."""
        return sum(1 for obj in self._objects.values() if isinstance(obj, self._wgpu.GPUBuffer))

    # -- buffers -----------------------------------------------------------------------------
    def create_buffer(self, nbytes):
        usage = self._wgpu.BufferUsage
        buffer = self.device.create_buffer(
            size=max(4, nbytes), usage=usage.STORAGE | usage.COPY_SRC | usage.COPY_DST
        )
        return self._add(buffer)

    def destroy_buffer(self, handle):
        self._destroy(handle)

    def write(self, handle, data):
        self.flush()
        self.device.queue.write_buffer(self._objects[handle], 0, data)

    def read(self, handle, nbytes):
        return self.read_many([(handle, nbytes)])[0]

    def read_many(self, reads):
        self.flush()
        # Side by side in one staging buffer, each at a 4-byte aligned offset (copy rule).
        offsets, size = [], 0
        for _, nbytes in reads:
            offsets.append(size)
            size += -(-nbytes // 4) * 4
        if size == 0:
            return [b"" for _ in reads]
        usage = self._wgpu.BufferUsage
        if self._staging is None or self._staging.size < size:
            if self._staging is not None:
                self._staging.destroy()
            self._staging = self.device.create_buffer(
                size=size, usage=usage.MAP_READ | usage.COPY_DST
            )
        encoder = self.device.create_command_encoder()
        for (handle, nbytes), offset in zip(reads, offsets):
            if nbytes:
                encoder.copy_buffer_to_buffer(self._objects[handle], 0, self._staging, offset,
                                              nbytes)
        self._submit(encoder)
        self._staging.map_sync(self._wgpu.MapMode.READ, 0, size)
        try:
            mapped = self._staging.read_mapped(0, size)
            return [bytes(mapped[offset:offset + nbytes])
                    for (_, nbytes), offset in zip(reads, offsets)]
        finally:
            self._staging.unmap()

    def create_uniform(self, data):
        usage = self._wgpu.BufferUsage
        buffer = self.device.create_buffer_with_data(
            data=data, usage=usage.UNIFORM | usage.COPY_DST
        )
        return self._add(buffer)

    def destroy_uniform(self, handle):
        self._destroy(handle)

    # -- work --------------------------------------------------------------------------------
    def create_pipeline(self, wgsl):
        module = self.device.create_shader_module(code=wgsl)
        pipeline = self.device.create_compute_pipeline(
            layout="auto", compute={"module": module, "entry_point": "main"}
        )
        return self._add(pipeline)

    def _new_bind_group(self, pipeline, uniform, buffers):
        entries = [{"binding": 0, "resource": {"buffer": self._objects[uniform]}}]
        for slot, handle in enumerate(buffers, start=1):
            entries.append({"binding": slot, "resource": {"buffer": self._objects[handle]}})
        return self.device.create_bind_group(
            layout=self._objects[pipeline].get_bind_group_layout(0), entries=entries
        )

    def _bind_group(self, pipeline, uniform, buffers):
        key = (pipeline, uniform, tuple(buffers))
        group = self._bind_groups.get(key)
        if group is not None:
            return group
        group = self._new_bind_group(pipeline, uniform, buffers)
        if len(self._bind_groups) >= _BIND_GROUP_CACHE:
            self._bind_groups.clear()
            self._groups_of.clear()
        self._bind_groups[key] = group
        for handle in key[1:2] + key[2]:
            self._groups_of[handle].add(key)
        return group

    def dispatch(self, pipeline, uniform, buffers, groups):
        group = self._bind_group(pipeline, uniform, buffers)
        self._queue.append(("dispatch", self._objects[pipeline], group, tuple(groups)))
        if len(self._queue) >= _MAX_QUEUED:
            self.flush()

    def copy(self, src, dst, nbytes):
        self._queue.append(("copy", self._objects[src], self._objects[dst], nbytes))

    def flush(self):
        if not self._queue:
            return
        encoder = self.device.create_command_encoder()
        self._encode(encoder, self._queue)
        self._queue = []
        self._submit(encoder)

    def _encode(self, encoder, commands):
        compute = None
        for kind, *args in commands:
            if kind == "dispatch":
                if compute is None:
                    compute = encoder.begin_compute_pass()
                pipeline, group, groups = args
                compute.set_pipeline(pipeline)
                compute.set_bind_group(0, group)
                compute.dispatch_workgroups(*groups)
                self.dispatches += 1
            else:
                if compute is not None:
                    compute.end()
                    compute = None
                src, dst, nbytes = args
                encoder.copy_buffer_to_buffer(src, 0, dst, 0, nbytes)
        if compute is not None:
            compute.end()

    def _submit(self, encoder):
        self.device.queue.submit([encoder.finish()])
        self.submits += 1
        for buffer in self._pending_destroy:
            buffer.destroy()
        self._pending_destroy = []

    # -- recorded programs -------------------------------------------------------------------
    def create_program(self, commands):
        program = []
        for kind, *args in commands:
            if kind == "dispatch":
                pipeline, uniform, buffers, groups = args
                program.append(("dispatch", self._objects[pipeline],
                                self._new_bind_group(pipeline, uniform, buffers), tuple(groups)))
            else:
                src, dst, nbytes = args
                program.append(("copy", self._objects[src], self._objects[dst], nbytes))
        return program

    def run_program(self, program, writes=(), copies=()):
        for handle, data in writes:
            self.device.queue.write_buffer(self._objects[handle], 0, data)
        encoder = self.device.create_command_encoder()
        # Work queued before the program (e.g. a scalar input's fill) goes first, same submit.
        self._encode(encoder, self._queue)
        self._queue = []
        self._encode(encoder, program)
        self._encode(encoder, [("copy", self._objects[src], self._objects[dst], nbytes)
                               for src, dst, nbytes in copies])
        self._submit(encoder)
