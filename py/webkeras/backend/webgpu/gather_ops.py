"""Slicing, joining, take, scatter_add and erf on the WebGPU backend, all on the device.

strided_slice reads through strides (negative along reversed slices) from an offset;
slice_scatter fills zeros and writes the values through the same strides; concatenate writes
each input's slab that way (one dispatch per input). take gathers along an axis. Its VJP,
scatter_add, cannot scatter floats (WGSL has no float atomics): a first kernel chains the
positions holding each index, in index order, and each output element then sums its chain,
in the order numpy.add.at adds, so duplicates give the same bits. The gather family's
bodies are in kernels/gather.py.

NumPy raises IndexError for an index out of range; a kernel cannot raise, so the host checks
the range first: known without a readback for indices uploaded from the host (the usual case:
an Embedding's inputs), else read back once and remembered (`DeviceBuffer.known_range`).
"""

import math

from webkeras.backend.webgpu import layout
from webkeras.backend.webgpu.kernel_source import LOOP_LIMIT, kernels


def _slice_ranges(slices, shape):
    slices = tuple(slices) + (slice(None),) * (len(shape) - len(slices))
    return [range(*s.indices(d)) for s, d in zip(slices, shape)]


def _strided_walk(ranges, shape):
    """(offset, steps) of a slice's elements in a contiguous array of `shape`."""
    strides = layout.contiguous_strides(shape)
    offset = sum(r.start * s for r, s in zip(ranges, strides) if len(r))
    return offset, tuple(r.step * s for r, s in zip(ranges, strides))


class GatherKernels:
    """strided_slice, slice_scatter, concatenate, take, scatter_add, erf as kernels on `gpu`
    (the WebGPU backend that holds them), scatter_add past the loop limit on `host`."""

    def __init__(self, gpu, host):
        self.gpu, self.host = gpu, host

    def _index_op(self, op, arrays, out, n, nd=0, **values):
        """Queue gather op `op` for elements 0..n-1 (of `out`, or of the values it writes)."""
        if n:
            wg = self.gpu.limits.workgroup
            spec = dict(op=op, nd=nd, dtype=arrays[0].dtype, workgroup=wg)
            self.gpu.run_kernel("gather", spec, dict(values, n=n), list(arrays) + [out],
                                self.gpu.grid(-(-n // wg)))
        return out

    def _strided(self, op, source, out, shape, steps, offset):
        """strided_read (out = the walk over source) or strided_write (source into out)."""
        shape, (steps,) = layout.collapse(tuple(shape), [steps])
        if len(shape) > kernels.MAX_RANK:
            raise ValueError(f"Strided copies take up to {kernels.MAX_RANK} dims after merging "
                             f"contiguous ones; received a walk over {len(shape)} dims.")
        return self._index_op(op, [source], out, math.prod(shape), nd=len(shape),
                              offset=offset, shape=shape, steps=steps)

    # -- slicing -----------------------------------------------------------------------------
    def strided_slice(self, x, slices):
        ranges = _slice_ranges(slices, x.shape)
        shape = tuple(len(r) for r in ranges)
        out = self.gpu.empty(shape, x.dtype)
        offset, steps = _strided_walk(ranges, x.shape)
        return self._strided("strided_read", x, out, shape, steps, offset)

    def slice_scatter(self, values, shape, slices):
        ranges = _slice_ranges(slices, shape)
        counts = tuple(len(r) for r in ranges)
        if counts != values.shape:
            raise ValueError(f"slice_scatter: values of shape {values.shape} do not fit "
                             f"slices {tuple(slices)} of shape {tuple(shape)} (expected "
                             f"values of shape {counts}).")
        out = self.gpu.full(shape, 0, values.dtype)
        offset, steps = _strided_walk(ranges, shape)
        return self._strided("strided_write", values, out, counts, steps, offset)

    def concatenate(self, arrays, axis):
        first = arrays[0]
        if first.ndim == 0:
            raise ValueError("zero-dimensional arrays cannot be concatenated")
        axis %= first.ndim
        for a in arrays:
            if a.dtype != first.dtype or a.ndim != first.ndim or any(
                    n != m for d, (n, m) in enumerate(zip(a.shape, first.shape)) if d != axis):
                raise ValueError(
                    "concatenate needs arrays of one dtype and the same shape but along axis "
                    f"{axis}; received {[(x.shape, x.dtype) for x in arrays]}.")
        total = sum(a.shape[axis] for a in arrays)
        shape = first.shape[:axis] + (total,) + first.shape[axis + 1:]
        out = self.gpu.empty(shape, first.dtype)
        outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
        begin = 0
        for a in arrays:
            # Input a is (outer, its slab) of rows total * inner apart, from column `begin`.
            block = a.shape[axis] * inner
            self._strided("strided_write", a, out, (outer, block), (total * inner, 1),
                          begin * inner)
            begin += a.shape[axis]
        return out

    # -- gathers -----------------------------------------------------------------------------
    def _check_indices(self, indices, dim, axis):
        """IndexError as NumPy's for an index outside [-dim, dim); reads back only indices
        whose range the host does not know yet."""
        if indices.dtype != "int32":
            raise TypeError(f"Indices must be int32; received {indices.dtype}.")
        if indices.size == 0:
            return
        known = indices.buffer.known_range
        if known is None:
            host = self.gpu.to_numpy(indices)
            known = indices.buffer.known_range = (int(host.min()), int(host.max()))
        if -dim <= known[0] and known[1] < dim:
            return
        host = self.gpu.to_numpy(indices).reshape(-1)
        bad = host[(host < -dim) | (host >= dim)][0]
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {dim}")

    def take(self, x, indices, axis):
        if x.ndim == 0:
            raise ValueError("take needs an array of at least one dimension; received a "
                             "scalar (0-d) array.")
        axis %= x.ndim
        dim = x.shape[axis]
        if dim == 0 and indices.size:
            raise IndexError("cannot do a non-empty take from an empty axes.")
        self._check_indices(indices, dim, axis)
        out = self.gpu.empty(x.shape[:axis] + indices.shape + x.shape[axis + 1:], x.dtype)
        return self._index_op("take", [x, indices], out, out.size, dim=dim,
                              count=indices.size, inner=math.prod(x.shape[axis + 1:]))

    def scatter_add(self, indices, updates, shape, axis):
        shape = tuple(shape)
        axis %= len(shape)
        expected = shape[:axis] + indices.shape + shape[axis + 1:]
        if updates.shape != expected:
            raise ValueError(f"scatter_add: updates of shape {updates.shape} do not match "
                             f"indices {indices.shape} into shape {shape} along axis {axis} "
                             f"(expected updates of shape {expected}).")
        if updates.dtype == "bool":
            # NumPy adds bools as a logical or: count in int32, then test for non-zero.
            counts = self.scatter_add(indices, self.gpu.cast(updates, "int32"), shape, axis)
            return self.gpu.cast(counts, "bool")
        dim, count = shape[axis], indices.size
        self._check_indices(indices, dim, axis)
        if count > LOOP_LIMIT:
            # Both kernels loop over the indices: past llvmpipe's loop cap, numpy.add.at on
            # the host (one readback) instead.
            return self.host.scatter_add(indices, updates, shape, axis)
        if count == 0 or math.prod(shape) == 0:
            return self.gpu.full(shape, 0, updates.dtype)
        links = self.gpu.full((dim + count,), -1, "int32")
        self._index_op("index_links", [indices], links, count, dim=dim, count=count)
        out = self.gpu.empty(shape, updates.dtype)
        return self._index_op("scatter_sum", [updates, links], out, out.size, dim=dim,
                              count=count, inner=math.prod(shape[axis + 1:]))

    # -- element-wise ------------------------------------------------------------------------
    def erf(self, x):
        body, helpers = kernels.erf_body(x.dtype)
        inputs = [(x, layout.contiguous_strides(x.shape))]
        return self.gpu.map_kernel(body, x.dtype, inputs, x.shape, helpers=helpers)
