"""Counting a WebGPU driver's readbacks: the only way data leaves the device."""


class CountedReads:
    """Counts `read` and `read_many` calls on `driver` while installed. A call made from
    inside another (the wgpu driver's `read` is a one-item `read_many`) is the same
    readback and counts once."""

    def __init__(self, driver):
        self.driver, self.count, self._depth = driver, 0, 0
        self._originals = {name: getattr(driver, name) for name in ("read", "read_many")}

    def _counted(self, name):
        def call(*args):
            self.count += self._depth == 0
            self._depth += 1
            try:
                return self._originals[name](*args)
            finally:
                self._depth -= 1

        return call

    def __enter__(self):
        for name in self._originals:
            setattr(self.driver, name, self._counted(name))
        return self

    def __exit__(self, *exc):
        for name in self._originals:
            delattr(self.driver, name)
