"""Device arrays and the caches behind them: buffer pool, uniform cache.

A `GPUArray` is a view (shape, dtype) of a `DeviceBuffer`. Reshape makes a new view of the same
buffer, so the buffer is shared; Python's own reference count on the `DeviceBuffer` decides when
it goes back to the pool (its `__del__`), which is the refcount the views need.
"""

import collections
import math

import numpy as np

#: Every dtype is stored in 4 bytes (bool as u32).
ITEMSIZE = 4
HOST_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.uint32}


def device_dtype(dtype):
    """The stored dtype for a NumPy dtype: float64 -> float32, int64 -> int32, bool."""
    if dtype == np.bool_:
        return "bool"
    if np.issubdtype(dtype, np.floating):
        return "float32"
    if np.issubdtype(dtype, np.integer):
        return "int32"
    raise TypeError(
        f"The WebGPU backend stores float32, int32 and bool arrays; received dtype {dtype}."
    )


class DeviceBuffer:
    """One pooled storage buffer; returns itself to the pool when no view holds it.

    `known_range`: (min, max) of its int32 values where the host knows them (uploads, and
    indices once read back), so gathers check bounds without a readback. In-place writes
    (`assign`) forget it; every view of the buffer shares it.
    """

    __slots__ = ("handle", "nbytes", "pool", "known_range")

    def __init__(self, handle, nbytes, pool):
        self.handle = handle
        self.nbytes = nbytes
        self.pool = pool
        self.known_range = None

    def __del__(self):
        try:
            self.pool.release(self.handle, self.nbytes)
        except Exception:  # interpreter shutdown: the device is going away anyway
            pass


class GPUArray:
    """A shaped, typed view of a device buffer (the WebGPU backend's raw array)."""

    __slots__ = ("buffer", "shape", "dtype", "__weakref__")

    def __init__(self, buffer, shape, dtype):
        self.buffer = buffer
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtype

    @property
    def handle(self):
        return self.buffer.handle

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"GPUArray(shape={self.shape}, dtype={self.dtype})"


class BufferPool:
    """Free storage buffers by byte size, so a training loop reuses the same few buffers."""

    def __init__(self, driver):
        self.driver = driver
        self.free = collections.defaultdict(list)

    def acquire(self, nbytes):
        # Round to 16 bytes (and at least 16), so near sizes share buffers.
        nbytes = max(16, -(-nbytes // 16) * 16)
        stack = self.free.get(nbytes)
        handle = stack.pop() if stack else self.driver.create_buffer(nbytes)
        return DeviceBuffer(handle, nbytes, self)

    def release(self, handle, nbytes):
        self.free[nbytes].append(handle)

    def trim(self):
        """Destroy every free buffer (gives the memory back to the device)."""
        for stack in self.free.values():
            for handle in stack:
                self.driver.destroy_buffer(handle)
        self.free.clear()


class UniformCache:
    """Uniform buffers keyed by their bytes: repeated shapes/scalars reuse one buffer (LRU)."""

    def __init__(self, driver, capacity=2048):
        self.driver = driver
        self.capacity = capacity
        self.entries = collections.OrderedDict()

    def get(self, data):
        handle = self.entries.get(data)
        if handle is not None:
            self.entries.move_to_end(data)
            return handle
        handle = self.driver.create_uniform(data)
        self.entries[data] = handle
        if len(self.entries) > self.capacity:
            _, evicted = self.entries.popitem(last=False)
            self.driver.destroy_uniform(evicted)
        return handle
