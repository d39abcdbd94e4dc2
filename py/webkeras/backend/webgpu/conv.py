"""Convolution and pooling on the WebGPU backend, all on the device (no readback).

Convolution is im2col + matmul, as in the NumPy backend: a gather kernel writes the patch
matrix (groups, rows, taps * channels_per_group), the tiled matmul multiplies it by the
grouped kernel (batched over groups), and a transpose interleaves the groups' filters (with
one input channel per group, a direct gather kernel instead: see `conv`). The
VJPs reuse the pieces: kernel grad = patches^T @ grad; input grad = grad @ kernel^T, folded
back by col2im, a gather in which each input element sums the taps that read it. Pooling and
its gradient are gathers too (kernels/gather.py).

On software adapters (lavapipe, SwiftShader) these run on the host instead: there the CPU's
BLAS beats the emulated GPU (MNIST CNN, batch 32, in Chromium: 587 images/s through NumPy vs 43
through the kernels). `limits.windows_on_host` decides; the tests turn it off to check the
kernels on lavapipe.
"""

import math

from webkeras.backend.webgpu.kernel_source import LOOP_LIMIT


def _conv_out(in_size, size, strides, dilation):
    return tuple((d - (k - 1) * r - 1) // s + 1
                 for d, k, s, r in zip(in_size, size, strides, dilation))


class WindowGeometry:
    """The shapes a window kernel needs, channels-last: x (batch, *in_size, channels) read
    through windows of `size` giving (batch, *out_size, ...)."""

    def __init__(self, batch, in_size, out_size, size, strides, dilation, pads, channels,
                 per_group=1, groups=1):
        self.batch, self.channels, self.per_group = batch, channels, per_group
        self.groups = groups
        self.in_size, self.out_size, self.size = tuple(in_size), tuple(out_size), tuple(size)
        self.strides, self.dilation, self.pads = tuple(strides), tuple(dilation), tuple(pads)
        self.taps = math.prod(size)
        self.rows = batch * math.prod(out_size)

    def values(self):
        return dict(channels=self.channels, per_group=self.per_group, groups=self.groups,
                    in_channels=self.per_group * self.groups,
                    taps=self.taps, rows=self.rows, in_count=math.prod(self.in_size),
                    out_count=math.prod(self.out_size), in_size=self.in_size,
                    out_size=self.out_size, window=self.size, strides=self.strides,
                    dilation=self.dilation, pads=self.pads)


class WindowKernels:
    """conv, conv_input_grad, conv_kernel_grad, pool, pool_grad as kernels on `gpu` (the
    WebGPU backend that holds them: its dispatch and its other primitives)."""

    def __init__(self, gpu):
        self.gpu = gpu

    def _gather(self, op, geometry, arrays, out_shape, dtype="float32"):
        if geometry.taps > LOOP_LIMIT:
            raise ValueError(f"A window of {geometry.size} has {geometry.taps} taps; the "
                             f"WebGPU backend's kernels loop over at most {LOOP_LIMIT}.")
        out = self.gpu.empty(out_shape, dtype)
        n = out.size
        if n:
            wg = self.gpu.limits.workgroup
            spec = dict(op=op, nd=len(geometry.size), dtype=arrays[0].dtype, workgroup=wg)
            self.gpu.run_kernel("gather", spec, dict(geometry.values(), n=n), list(arrays) + [out],
                                self.gpu.grid(-(-n // wg)))
        return out

    def _conv_geometry(self, x_shape, size, strides, dilation, per_group):
        out = _conv_out(x_shape[1:-1], size, strides, dilation)
        return WindowGeometry(x_shape[0], x_shape[1:-1], out, size, strides, dilation,
                              (0,) * len(size), x_shape[-1], per_group,
                              x_shape[-1] // per_group)

    def _patches(self, x, geometry, groups):
        """im2col: (groups, rows, taps * per_group), tap-major like the kernel."""
        if x.dtype != "float32":
            x = self.gpu.cast(x, "float32")
        shape = (groups, geometry.rows, geometry.taps * geometry.per_group)
        return self._gather("im2col", geometry, [x], shape)

    def _group_kernel(self, kernel, groups):
        """(*size, per_group, filters) -> (groups, taps * per_group, filters // groups)."""
        taps = math.prod(kernel.shape[:-2])
        per_group, filters = kernel.shape[-2:]
        if groups == 1:
            return self.gpu.reshape(kernel, (1, taps * per_group, filters))
        k = self.gpu.reshape(kernel, (taps, per_group, groups, filters // groups))
        return self.gpu.reshape(self.gpu.transpose(k, (2, 0, 1, 3)), (groups, taps * per_group, -1))

    def _group_rows(self, y, groups):
        """(..., filters) -> (groups, rows, filters // groups)."""
        rows, per_group = y.size // y.shape[-1], y.shape[-1] // groups
        if groups == 1:
            return self.gpu.reshape(y, (1, rows, per_group))
        return self.gpu.transpose(self.gpu.reshape(y, (rows, groups, per_group)), (1, 0, 2))

    def _ungroup_rows(self, y, lead):
        """(groups, rows, filters // groups) -> (*lead, filters), filter = group * fg + j."""
        if y.shape[0] != 1:
            y = self.gpu.transpose(y, (1, 0, 2))
        return self.gpu.reshape(y, tuple(lead) + (-1,))

    def conv(self, x, kernel, strides, dilation, groups):
        size, per_group = kernel.shape[:-2], kernel.shape[-2]
        geometry = self._conv_geometry(x.shape, size, strides, dilation, per_group)
        if x.dtype != "float32":
            x = self.gpu.cast(x, "float32")
        if per_group == 1:
            # One input channel per group (depthwise, or a grey image): the matmul would run
            # one k-tile per 64x64 block, mostly padding; a thread per output sums its taps.
            # The kernel's "channels" are the output's: its filters.
            geometry.channels = kernel.shape[-1]
            return self._gather("conv", geometry, [x, kernel],
                                (x.shape[0],) + geometry.out_size + (kernel.shape[-1],))
        patches = self._patches(x, geometry, groups)
        y = self.gpu.matmul(patches, self._group_kernel(kernel, groups))
        return self._ungroup_rows(y, (x.shape[0],) + geometry.out_size)

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        size, per_group = kernel_shape[:-2], kernel_shape[-2]
        geometry = self._conv_geometry(x.shape, size, strides, dilation, per_group)
        patches = self._patches(x, geometry, groups)
        dk = self.gpu.matmul(patches, self._group_rows(grad, groups), transpose_a=True)
        if groups == 1:
            return self.gpu.reshape(dk, kernel_shape)
        dk = self.gpu.reshape(dk, (groups, geometry.taps, per_group, -1))
        return self.gpu.reshape(self.gpu.transpose(dk, (1, 2, 0, 3)), kernel_shape)

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        size, per_group = kernel.shape[:-2], kernel.shape[-2]
        geometry = self._conv_geometry(input_shape, size, strides, dilation, per_group)
        cols = self.gpu.matmul(self._group_rows(grad, groups), self._group_kernel(kernel, groups),
                           transpose_b=True)
        return self._gather("col2im", geometry, [cols], input_shape)

    def _pool_geometry(self, x_shape, pool_size, strides, pads):
        nd = len(pool_size)
        out = tuple((d + a + b - k) // s + 1
                    for d, (a, b), k, s in zip(x_shape[1:-1], pads, pool_size, strides))
        return WindowGeometry(x_shape[0], x_shape[1:-1], out, pool_size, strides, (1,) * nd,
                              tuple(a for a, _ in pads), x_shape[-1])

    def pool(self, x, mode, pool_size, strides, pads):
        geometry = self._pool_geometry(x.shape, pool_size, strides, pads)
        shape = (x.shape[0],) + geometry.out_size + (x.shape[-1],)
        # As the NumPy backend: any mode but "max" averages.
        if mode == "max":
            return self._gather("pool_max", geometry, [x], shape, x.dtype)
        if x.dtype != "float32":
            x = self.gpu.cast(x, "float32")
        return self._gather("pool_avg", geometry, [x], shape)

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        geometry = self._pool_geometry(x.shape, pool_size, strides, pads)
        if grad.dtype != "float32":
            grad = self.gpu.cast(grad, "float32")
        if mode == "max":
            share = self._gather("pool_max_share", geometry, [x, y, grad], y.shape)
            return self._gather("pool_max_grad", geometry, [x, y, share], x.shape)
        share = self._gather("pool_avg_share", geometry, [grad], y.shape)
        return self._gather("pool_avg_grad", geometry, [share], x.shape)
