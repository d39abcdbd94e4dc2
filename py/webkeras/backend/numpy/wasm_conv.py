"""Convolution through the WASM SIMD kernels (kernels/wasm/conv.c, conv_direct.c), for the
NumPy backend under Pyodide: the convolution half of `wasm_kernels.Kernels`.

By shape: a depthwise convolution (one input channel per group) runs its own kernels, forward
and both gradients; other grouped convolutions, and those whose patch rows are short
(MAX_DIRECT_DEPTH), run as an implicit GEMM that reads the patches from the input in place;
the rest is im2col (or col2im) per chunk of images plus the GEMM. Each method returns None for
a case it leaves to NumPy (3-D, other dtypes, too small to pay for the call, the gradients of
grouped non-depthwise convolution).
"""

import math

import numpy as np

#: Below this many multiply-adds NumPy's own loop beats a kernel call (~15 us in Pyodide).
MIN_CONV_WORK = 32768
#: Most floats one im2col buffer holds (16 MiB): longer batches go through in chunks of images.
MAX_PATCH_FLOATS = 1 << 22
#: Patch rows (kh * kw * channels per group) up to this long skip im2col (wk_conv_direct):
#: measured in Chromium, direct was 1.1-1.4x faster at depths 9 to 576 and 5% slower at 2,304,
#: where the GEMM's packed blocks pay for the copy.
MAX_DIRECT_DEPTH = 1024

_F32 = np.dtype(np.float32)


def window_2d(spatial, size, strides, dilation):
    """(h, w, kh, kw, sy, sx, dy, dx) of a 1-D or 2-D window geometry (1-D as height 1), or
    None for other ranks."""
    if len(size) == 1:
        return (1, spatial[0], 1, size[0], 1, strides[0], 1, dilation[0])
    if len(size) == 2:
        return (*spatial, *size, *strides, *dilation)
    return None


def out_spatial(x, oh, ow):
    """The output's spatial shape for a 1-D (x: batch, w, c) or 2-D input."""
    return (ow,) if x.ndim == 3 else (oh, ow)


def _conv_geometry(x_shape, kernel_shape, strides, dilation):
    """(batch, h, w, c, kh, kw, sy, sx, dy, dx, oh, ow, filters) of a 1-D/2-D convolution,
    or None."""
    window = window_2d(x_shape[1:-1], kernel_shape[:-2], strides, dilation)
    if window is None:
        return None
    h, w, kh, kw, sy, sx, dy, dx = window
    oh = (h - (kh - 1) * dy - 1) // sy + 1
    ow = (w - (kw - 1) * dx - 1) // sx + 1
    if oh <= 0 or ow <= 0:
        return None
    return (x_shape[0], h, w, x_shape[-1], kh, kw, sy, sx, dy, dx, oh, ow, kernel_shape[-1])


def _pointwise(geometry):
    """A 1x1 kernel at stride 1: the input's rows are already the patches."""
    _, _, _, _, kh, kw, sy, sx, *_ = geometry
    return kh == kw == sy == sx == 1


def _depthwise(kernel_shape, groups):
    """One input channel per group (ops.depthwise_conv's kernel (..., 1, channels * m))."""
    return groups > 1 and kernel_shape[-2] == 1


def _direct(kernel_shape, groups):
    """Grouped (not depthwise) convolution, or patch rows short enough: wk_conv_direct."""
    return not _depthwise(kernel_shape, groups) and (
        groups > 1 or math.prod(kernel_shape[:-1]) <= MAX_DIRECT_DEPTH)


def _worth_it(geometry, kernel_shape, *arrays):
    """float32 operands and enough multiply-adds to pay for the call."""
    batch, *_, oh, ow, filters = geometry
    work = batch * oh * ow * math.prod(kernel_shape[:-1]) * filters
    return all(a.dtype == _F32 for a in arrays) and work >= MIN_CONV_WORK


class ConvKernels:
    """Convolution wrappers; mixed into wasm_kernels.Kernels, which provides `lib` (called
    with int arguments only) and `sgemm`."""

    def _chunks(self, geometry):
        """(first image, images) chunks whose patches fit MAX_PATCH_FLOATS."""
        batch, _, _, c, kh, kw, *_, oh, ow, _ = geometry
        per_image = oh * ow * kh * kw * c
        step = max(1, MAX_PATCH_FLOATS // max(per_image, 1))
        return [(b0, min(step, batch - b0)) for b0 in range(0, batch, step)]

    def conv(self, x, kernel, strides, dilation, groups):
        """The backend's conv (channels-last, padded x) for float32 1-D/2-D."""
        geometry = _conv_geometry(x.shape, kernel.shape, strides, dilation)
        if geometry is None or not _worth_it(geometry, kernel.shape, x, kernel):
            return None
        batch, *window, oh, ow, filters = geometry
        x = np.ascontiguousarray(x)
        kernel = np.ascontiguousarray(kernel)
        y = np.empty((batch,) + out_spatial(x, oh, ow) + (filters,), dtype=np.float32)
        if _depthwise(kernel.shape, groups):
            self.lib.wk_depthwise_conv(x.ctypes.data, batch, *window, oh, ow,
                                       kernel.ctypes.data, filters // groups, y.ctypes.data)
            return y
        if _direct(kernel.shape, groups):
            return self._conv_direct(x, kernel, geometry, groups, y)
        k2 = kernel.reshape(-1, filters)
        out = y.reshape(-1, filters)
        if _pointwise(geometry):
            self.sgemm(x.reshape(-1, x.shape[-1]), k2, out=out)
            return y
        per_image = oh * ow
        for b0, nb in self._chunks(geometry):
            patches = np.empty((nb * per_image, k2.shape[0]), dtype=np.float32)
            self.lib.wk_im2col(x.ctypes.data, b0, nb, *window, oh, ow, patches.ctypes.data)
            self.sgemm(patches, k2, out=out[b0 * per_image:(b0 + nb) * per_image])
        return y

    def _conv_direct(self, x, kernel, geometry, groups, y, bias=None, relu=False):
        batch, *window, oh, ow, filters = geometry
        taps = math.prod(kernel.shape[:-2])
        packed = np.empty(self.lib.wk_conv_direct_packed_size(taps, x.shape[-1], filters, groups),
                          dtype=np.float32)
        self.lib.wk_conv_direct(x.ctypes.data, batch, *window, oh, ow, kernel.ctypes.data,
                                filters, groups, 0 if bias is None else bias.ctypes.data, relu,
                                packed.ctypes.data, y.ctypes.data)
        return y

    def conv_bias_relu(self, x, kernel, strides, dilation, groups, bias, relu):
        """conv(...) + bias, then ReLU when `relu`, in one pass (a Conv2D layer's call): for
        the convolutions conv runs as an implicit GEMM and a float32 bias of `filters` values;
        else None."""
        geometry = _conv_geometry(x.shape, kernel.shape, strides, dilation)
        if (geometry is None or not _direct(kernel.shape, groups) or bias.dtype != _F32
                or bias.size != kernel.shape[-1] or bias.shape[-1:] != kernel.shape[-1:]
                or not _worth_it(geometry, kernel.shape, x, kernel)):
            return None
        batch, *_, oh, ow, filters = geometry
        x, kernel, bias = (np.ascontiguousarray(a) for a in (x, kernel, bias))
        y = np.empty((batch,) + out_spatial(x, oh, ow) + (filters,), dtype=np.float32)
        return self._conv_direct(x, kernel, geometry, groups, y, bias, relu)

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        """The backend's conv_input_grad: col2im of grad @ kernel^T (groups=1), or the
        depthwise kernel's."""
        geometry = _conv_geometry(tuple(input_shape), kernel.shape, strides, dilation)
        if geometry is None or not _worth_it(geometry, kernel.shape, grad, kernel):
            return None
        batch, *window, oh, ow, filters = geometry
        grad, kernel = np.ascontiguousarray(grad), np.ascontiguousarray(kernel)
        dx = np.zeros(input_shape, dtype=np.float32)
        if _depthwise(kernel.shape, groups):
            self.lib.wk_depthwise_conv_input_grad(grad.ctypes.data, batch, *window, oh, ow,
                                                  kernel.ctypes.data, filters // groups,
                                                  dx.ctypes.data)
            return dx
        if groups != 1:
            return None
        g2 = grad.reshape(-1, filters)
        k2 = kernel.reshape(-1, filters)
        if _pointwise(geometry):
            return self.sgemm(g2, k2, transpose_b=True).reshape(tuple(input_shape))
        per_image = oh * ow
        for b0, nb in self._chunks(geometry):
            cols = self.sgemm(g2[b0 * per_image:(b0 + nb) * per_image], k2, transpose_b=True)
            self.lib.wk_col2im(cols.ctypes.data, b0, nb, *window, oh, ow, dx.ctypes.data)
        return dx

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        """The backend's conv_kernel_grad: patches^T @ grad summed over chunks (groups=1), or
        the depthwise kernel's."""
        kernel_shape = tuple(kernel_shape)
        geometry = _conv_geometry(x.shape, kernel_shape, strides, dilation)
        if geometry is None or not _worth_it(geometry, kernel_shape, x, grad):
            return None
        batch, *window, oh, ow, filters = geometry
        x, grad = np.ascontiguousarray(x), np.ascontiguousarray(grad)
        if _depthwise(kernel_shape, groups):
            dk = np.zeros(kernel_shape, dtype=np.float32)
            self.lib.wk_depthwise_conv_kernel_grad(x.ctypes.data, grad.ctypes.data, batch,
                                                   *window, oh, ow, filters // groups,
                                                   dk.ctypes.data)
            return dk
        if groups != 1:
            return None
        g2 = grad.reshape(-1, filters)
        if _pointwise(geometry):
            dk = self.sgemm(x.reshape(-1, x.shape[-1]), g2, transpose_a=True)
            return dk.reshape(kernel_shape)
        per_image = oh * ow
        dk = np.empty((math.prod(kernel_shape[:-1]), filters), dtype=np.float32)
        for i, (b0, nb) in enumerate(self._chunks(geometry)):
            patches = np.empty((nb * per_image, dk.shape[0]), dtype=np.float32)
            self.lib.wk_im2col(x.ctypes.data, b0, nb, *window, oh, ow, patches.ctypes.data)
            self.sgemm(patches, g2[b0 * per_image:(b0 + nb) * per_image], transpose_a=True,
                       out=dk, accumulate=i > 0)
        return dk.reshape(kernel_shape)
