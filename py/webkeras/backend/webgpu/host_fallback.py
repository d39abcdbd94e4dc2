"""Host fallbacks for the WebGPU backend's newer primitives (slicing, joining, gathers, erf,
convolution and pooling).

Each method reads its operands back to NumPy, computes with the NumPy backend and uploads
the result: correct everywhere, slow (one readback per call). They stand in until WGSL
kernels exist for these primitives; the names say what they are so a profile shows them.

Use: `class WebGPUBackend(HostFallbackMixin, Backend)` (the mixin must come first so its
methods win over `Backend`'s NotImplementedError stubs), or `install(WebGPUBackend)`.
"""

from webkeras.backend.numpy import NumpyBackend

_host = NumpyBackend()

#: The primitives served from the host, in `backend.base` order.
HOST_PRIMITIVES = ("strided_slice", "slice_scatter", "concatenate", "take", "scatter_add",
                   "erf", "conv", "conv_input_grad", "conv_kernel_grad", "pool", "pool_grad")


class HostFallbackMixin:
    def _host_strided_slice(self, x, slices):
        return self.from_numpy(_host.strided_slice(self.to_numpy(x), slices))

    def _host_slice_scatter(self, values, shape, slices):
        return self.from_numpy(_host.slice_scatter(self.to_numpy(values), shape, slices))

    def _host_concatenate(self, arrays, axis):
        return self.from_numpy(_host.concatenate([self.to_numpy(a) for a in arrays], axis))

    def _host_take(self, x, indices, axis):
        return self.from_numpy(_host.take(self.to_numpy(x), self.to_numpy(indices), axis))

    def _host_scatter_add(self, indices, updates, shape, axis):
        return self.from_numpy(_host.scatter_add(self.to_numpy(indices),
                                                 self.to_numpy(updates), shape, axis))

    def _host_erf(self, x):
        return self.from_numpy(_host.erf(self.to_numpy(x)))

    def _host_conv(self, x, kernel, strides, dilation, groups):
        return self.from_numpy(_host.conv(self.to_numpy(x), self.to_numpy(kernel), strides,
                                          dilation, groups))

    def _host_conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        return self.from_numpy(_host.conv_input_grad(
            self.to_numpy(grad), self.to_numpy(kernel), input_shape, strides, dilation, groups))

    def _host_conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        return self.from_numpy(_host.conv_kernel_grad(
            self.to_numpy(x), self.to_numpy(grad), kernel_shape, strides, dilation, groups))

    def _host_pool(self, x, mode, pool_size, strides, pads):
        return self.from_numpy(_host.pool(self.to_numpy(x), mode, pool_size, strides, pads))

    def _host_pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        return self.from_numpy(_host.pool_grad(self.to_numpy(x), self.to_numpy(y),
                                               self.to_numpy(grad), mode, pool_size, strides,
                                               pads))

    strided_slice = _host_strided_slice
    slice_scatter = _host_slice_scatter
    concatenate = _host_concatenate
    take = _host_take
    scatter_add = _host_scatter_add
    erf = _host_erf
    conv = _host_conv
    conv_input_grad = _host_conv_input_grad
    conv_kernel_grad = _host_conv_kernel_grad
    pool = _host_pool
    pool_grad = _host_pool_grad


def install(backend_cls):
    """Give `backend_cls` the host fallbacks for primitives it does not implement itself."""
    from webkeras.backend.base import Backend

    for name in HOST_PRIMITIVES:
        if getattr(backend_cls, name) is getattr(Backend, name):
            setattr(backend_cls, name, getattr(HostFallbackMixin, name))
    return backend_cls
