"""Host paths of the WebGPU backend, for where the host beats the kernels.

Each method reads its operands back to NumPy, computes with the NumPy backend and uploads the
result (one readback per call). Used for convolution and pooling on software adapters, where
the CPU's BLAS beats the emulated GPU (webgpu/conv.py), and for scatter_add with more indices
than a kernel thread may loop over (webgpu/gather_ops.py). Every primitive has a kernel but
argsort (sorting is rare in a train step).
"""

from webkeras.backend.numpy import NumpyBackend

_host = NumpyBackend()


class HostPath:
    """These primitives computed by the NumPy backend for `device` (anything with
    `from_numpy` / `to_numpy`, the WebGPU backend that holds it)."""

    def __init__(self, device):
        self.from_numpy, self.to_numpy = device.from_numpy, device.to_numpy

    def scatter_add(self, indices, updates, shape, axis):
        return self.from_numpy(_host.scatter_add(self.to_numpy(indices),
                                                 self.to_numpy(updates), shape, axis))

    def argsort(self, x, axis, descending):
        return self.from_numpy(_host.argsort(self.to_numpy(x), axis, descending))

    def conv(self, x, kernel, strides, dilation, groups):
        return self.from_numpy(_host.conv(self.to_numpy(x), self.to_numpy(kernel), strides,
                                          dilation, groups))

    def conv_input_grad(self, grad, kernel, input_shape, strides, dilation, groups):
        return self.from_numpy(_host.conv_input_grad(
            self.to_numpy(grad), self.to_numpy(kernel), input_shape, strides, dilation, groups))

    def conv_kernel_grad(self, x, grad, kernel_shape, strides, dilation, groups):
        return self.from_numpy(_host.conv_kernel_grad(
            self.to_numpy(x), self.to_numpy(grad), kernel_shape, strides, dilation, groups))

    def pool(self, x, mode, pool_size, strides, pads):
        return self.from_numpy(_host.pool(self.to_numpy(x), mode, pool_size, strides, pads))

    def pool_grad(self, x, y, grad, mode, pool_size, strides, pads):
        return self.from_numpy(_host.pool_grad(self.to_numpy(x), self.to_numpy(y),
                                               self.to_numpy(grad), mode, pool_size, strides,
                                               pads))
