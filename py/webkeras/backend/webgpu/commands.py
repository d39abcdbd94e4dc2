"""The object the WebGPU backend queues its work through, and its capturing stand-in.

Every dispatch, copy, upload and readback of the backend goes through `backend.commands`:
normally a `DeviceCommands` (the driver, with uniforms from the cache). While a step is being
compiled into a replayable program (trainers/webgpu_plan.py), `backend.capture()` puts a
`CommandCapture` in its place, which notes each command with the arrays it touches (keeping
them alive, so their buffers stay the step's own) and, unless `forward=False`, runs it too.
"""

import contextlib


class DeviceCommands:
    """Queues commands on `driver`; a dispatch's uniform bytes become a cached uniform."""

    def __init__(self, driver, uniforms):
        self.driver, self.uniforms = driver, uniforms

    def dispatch(self, pipeline, data, arrays, groups):
        self.driver.dispatch(pipeline, self.uniforms.get(data), [a.handle for a in arrays],
                             groups)

    def copy(self, src, dst, nbytes):
        self.driver.copy(src.handle, dst.handle, nbytes)

    def write(self, array, host):
        self.driver.write(array.handle, host)

    def read(self, array, nbytes):
        return self.driver.read(array.handle, nbytes)

    def read_many(self, reads):
        return self.driver.read_many([(array.handle, nbytes) for array, nbytes in reads])


class CommandCapture:
    """Notes commands as `("dispatch", pipeline, data, arrays, groups)`,
    `("copy", src, dst, nbytes)` and `("write", array, host)`, and counts readbacks.

    Args:
        inner: the commands object that runs them (when `forward`).
        forward: run each command as well as noting it; with False, nothing reaches the
            device (a readback is then an error: there is nothing to read).
    """

    def __init__(self, inner, forward=True):
        self.inner, self.forward = inner, forward
        self.commands = []
        self.reads = 0

    def dispatch(self, pipeline, data, arrays, groups):
        self.commands.append(("dispatch", pipeline, data, tuple(arrays), tuple(groups)))
        if self.forward:
            self.inner.dispatch(pipeline, data, arrays, groups)

    def copy(self, src, dst, nbytes):
        self.commands.append(("copy", src, dst, nbytes))
        if self.forward:
            self.inner.copy(src, dst, nbytes)

    def write(self, array, host):
        self.commands.append(("write", array, host))
        if self.forward:
            self.inner.write(array, host)

    def read(self, array, nbytes):
        self.reads += 1
        if not self.forward:
            raise RuntimeError("A readback while commands are captured without running them.")
        return self.inner.read(array, nbytes)

    def read_many(self, reads):
        self.reads += 1
        if not self.forward:
            raise RuntimeError("A readback while commands are captured without running them.")
        return self.inner.read_many(reads)


@contextlib.contextmanager
def capturing(backend, forward=True):
    """`backend.commands` replaced by a `CommandCapture` for the duration; yields it."""
    capture = CommandCapture(backend.commands, forward)
    backend.commands = capture
    try:
        yield capture
    finally:
        backend.commands = capture.inner
