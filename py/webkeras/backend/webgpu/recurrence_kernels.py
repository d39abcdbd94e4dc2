"""`rnn_scan` / `rnn_scan_grad` of the WebGPU backend as kernels: O(1) dispatches a sequence.

Forward, one dispatch (kernels/rnn_forward.wgsl) walks every step of a cell, one workgroup per
tile of batch rows, the recurrent product computed by the workgroup between barriers; it writes
the packed outputs and what the VJP needs (the recurrent product's input hd of every step, the
gates, the states before each step). The VJP is one dispatch walking back (rnn_backward.wgsl,
writing d(input projection) for every step and d(initial states)), a transpose of the kernel
before it, then d(recurrent kernel) = hd^T @ d(gates) as one matmul over every step and row (and
d(bias) one column sum). The composed path (backend/recurrence.py on the backend's kernels,
O(steps) dispatches) runs what the kernels do not cover: `covers` says which.

    kernels = RecurrenceKernels(gpu)
    packed, residuals = kernels.scan("lstm", inputs, [h0, c0], kernel, None, mask, None,
                                     False, False)
"""

from webkeras.backend.webgpu.array import GPUArray
from webkeras.backend.webgpu.kernel_source import LOOP_LIMIT
from webkeras.kernels import recurrence as cells

# WebGPU's default limits, where an adapter reports none.
_DEFAULT_SHARED_BYTES = 16384
_DEFAULT_STORAGE_BUFFERS = 8
# Batch rows a workgroup runs at most: each reuses the kernel read from memory (8: half the
# time of 4 on lavapipe for M3, measured under load; the VJP of LSTM 128 fits 16 KB).
_MAX_ROWS = 8
# llvmpipe ends an invocation's loops once their iterations add up to 65535 (all its loops
# together, measured; constant ones are unrolled): the kernels' per-step loops run
# units (+ a few) times per unit a thread owns, every step. Kept under with a margin.
_LOOP_CAP = 60000


class RecurrenceResiduals:
    """What `scan_grad` needs from `scan` (opaque to ops, as recurrence.Residuals)."""

    __slots__ = ("cell", "launch", "batch", "steps", "units", "kernel", "saved", "mask",
                 "dropout", "go_backwards", "zero_output")


class RecurrenceKernels:
    """The recurrence kernels on `gpu` (the WebGPU backend: its dispatch and primitives)."""

    def __init__(self, gpu):
        self.gpu = gpu
        limits = gpu.driver.limits
        self.shared_floats = limits.get("maxComputeWorkgroupStorageSize",
                                        _DEFAULT_SHARED_BYTES) // 4
        self.storage_buffers = limits.get("maxStorageBuffersPerShaderStage",
                                          _DEFAULT_STORAGE_BUFFERS)

    def launch(self, cell, batch, units):
        """(threads per workgroup, rows per workgroup, unit capacity) for this shape, or None
        where the shared memory cannot hold one row's gates."""
        spec = cells.CELLS[cell]
        # Units round up to a power of two (at least 8): few pipelines, shapes in uniforms.
        capacity = max(8, 1 << (units - 1).bit_length())
        rows = _MAX_ROWS
        # The VJP's shared memory holds every gate of each row; a tile past the batch idles.
        while rows > 1 and (rows * capacity * spec.gates > self.shared_floats or
                            rows >= 2 * batch):
            rows //= 2
        if rows * capacity * spec.gates > self.shared_floats:
            return None
        return min(self.gpu.limits.workgroup, capacity), rows, capacity

    def covers(self, cell, inputs, states, kernel, mask, dropout):
        """Whether the kernels run this call; else the composed path does."""
        if cell not in cells.CELLS:
            return False
        spec = cells.CELLS[cell]
        batch, steps = inputs.shape[:2]
        units = kernel.shape[0]
        reads, writes = cells.forward_bindings(spec)
        grad_reads, grad_writes = cells.backward_bindings(spec)
        arrays = [inputs, kernel, *states] + [a for a in (mask, dropout) if a is not None]
        return (
            batch > 0 and steps > 0 and units > 0
            and steps <= LOOP_LIMIT
            and self._loop_iterations(batch, steps, units, cell) < _LOOP_CAP
            and all(a.dtype == "float32" for a in arrays if a is not mask)
            and (mask is None or mask.shape == (batch, steps))
            and (dropout is None or dropout.shape == (batch, units))
            and max(len(reads + writes), len(grad_reads + grad_writes)) <= self.storage_buffers
            and self.launch(cell, batch, units) is not None
            and -(-batch // self.launch(cell, batch, units)[1]) <= self.gpu.limits.groups_per_dim
        )

    def _loop_iterations(self, batch, steps, units, cell):
        """An upper bound of one invocation's dynamic loop iterations (either direction)."""
        launch = self.launch(cell, batch, units)
        if launch is None:
            return _LOOP_CAP
        per_thread, rows = -(-launch[2] // launch[0]), launch[1]
        return steps * (per_thread * (units + 2 * rows + 4) + 4) + 4 * per_thread * rows

    def _values(self, res):
        return dict(batch=res.batch, steps=res.steps, units=res.units,
                    has_mask=int(res.mask is not None), has_dropout=int(res.dropout is not None),
                    go_backwards=int(res.go_backwards), zero_output=int(res.zero_output))

    def _groups(self, res):
        return (-(-res.batch // res.launch[1]), 1, 1)

    def scan(self, cell, inputs, states, kernel, bias, mask, dropout, go_backwards,
             zero_output):
        """`Backend.rnn_scan` in one dispatch -> (packed, RecurrenceResiduals)."""
        spec = cells.CELLS[cell]
        res = RecurrenceResiduals()
        res.cell, res.kernel, res.mask, res.dropout = cell, kernel, mask, dropout
        res.batch, res.steps = inputs.shape[:2]
        res.units = kernel.shape[0]
        res.go_backwards, res.zero_output = go_backwards, zero_output
        res.launch = self.launch(cell, res.batch, res.units)
        out = self.gpu.empty((res.batch, res.steps + spec.states, res.units), "float32")
        # hd of every step (batch * steps, units) first: the VJP's matmul reads it as a view.
        res.saved = self.gpu.empty((res.batch * res.steps * res.units * (1 + spec.saved),),
                                   "float32")
        # An absent mask / dropout is never read: any buffer holds its binding.
        arrays = [inputs, *states, kernel] + ([bias] if spec.bias else [])
        arrays += [inputs if mask is None else mask, inputs if dropout is None else dropout]
        self.gpu.run_program(cells.program("forward", cell, *res.launch), self._values(res),
                             arrays + [out, res.saved], self._groups(res))
        return out, res

    def scan_grad(self, res, grad, needs):
        """`Backend.rnn_scan_grad` of `scan`'s residuals -> (d_inputs, [d_state...],
        d_kernel, d_bias), None where not needed (or no bias)."""
        gpu, spec = self.gpu, cells.CELLS[res.cell]
        if grad.dtype != "float32":
            grad = gpu.cast(grad, "float32")
        rows, gu = res.batch * res.steps, spec.gates * res.units
        d_inputs = gpu.empty((res.batch, res.steps, gu), "float32")
        d_recurrent = gpu.empty((rows, gu), "float32") if spec.recurrent_grad else None
        d_states = [gpu.empty((res.batch, res.units), "float32") for _ in range(spec.states)]
        arrays = [grad, grad if res.mask is None else res.mask,
                  grad if res.dropout is None else res.dropout,
                  gpu.transpose(res.kernel, (1, 0)), res.saved, d_inputs]
        arrays += ([d_recurrent] if d_recurrent is not None else []) + d_states
        gpu.run_program(cells.program("backward", res.cell, *res.launch), self._values(res),
                        arrays, self._groups(res))
        if d_recurrent is None:
            d_recurrent = gpu.reshape(d_inputs, (rows, gu))
        d_kernel = d_bias = None
        if needs[2]:
            hd = GPUArray(res.saved.buffer, (rows, res.units), "float32")
            d_kernel = gpu.matmul(hd, d_recurrent, transpose_a=True)
        if needs[3] and spec.bias:
            d_bias = gpu.reduce("sum", d_recurrent, (0,), False)
        return (d_inputs if needs[0] else None), (d_states if needs[1] else None), d_kernel, \
            d_bias
