"""A pure-Python stand-in for the part of h5py that Keras weight files need.

Pyodide has no h5py build here, so the tab saves and loads `.keras` / `.weights.h5` through
this module (`weights_h5._h5py()` returns it when h5py cannot be imported under Pyodide).
Files it writes are the ones h5py writes by default, and real h5py and Keras read them; it
reads what h5py and Keras write. The whole file is held in memory: fine for weights.

    with pure_h5.File(io.BytesIO(), "w") as f:
        f.require_group("layers/dense/vars").create_dataset("0", data=kernel)
"""

import io
import os

import numpy as np

from webkeras.saving.h5_format import H5FormatError

__all__ = ["Dataset", "File", "Group", "H5FormatError"]


class _Node:
    def __init__(self, name):
        self.name = name
        # Attribute values: str, or NumPy scalars / arrays of numbers or fixed-length bytes.
        self.attrs = {}


class Dataset(_Node):
    """An array held in memory; `dataset[()]` is the whole of it, as in h5py."""

    def __init__(self, name, data):
        super().__init__(name)
        self._data = data

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    def __len__(self):
        if not self.shape:
            raise TypeError("a scalar dataset has no len()")
        return self.shape[0]

    def __getitem__(self, key):
        return self._data[key]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._data, dtype=dtype)


class Group(_Node):
    """Named children (groups and datasets), addressed by `/`-separated paths."""

    def __init__(self, name):
        super().__init__(name)
        self._children = {}

    def _child_name(self, name):
        return f"{self.name.rstrip('/')}/{name}"

    def _lookup(self, path):
        node = self
        for part in _parts(path):
            if not isinstance(node, Group) or part not in node._children:
                return None
            node = node._children[part]
        return node

    def __getitem__(self, path):
        node = self._lookup(path)
        if node is None:
            raise KeyError(f"Unable to open object '{path}' in group '{self.name}': not found")
        return node

    def __contains__(self, path):
        return self._lookup(path) is not None

    def __len__(self):
        return len(self._children)

    def __iter__(self):
        return iter(sorted(self._children))

    def keys(self):
        return list(self)

    def values(self):
        return [self._children[k] for k in self]

    def items(self):
        return [(k, self._children[k]) for k in self]

    def _add(self, name, node):
        if name in self._children:
            raise ValueError(f"Unable to create '{name}' in group '{self.name}': name already "
                             "exists")
        self._children[name] = node
        return node

    def create_group(self, path):
        *parents, last = _parts(path)
        group = self.require_group("/".join(parents)) if parents else self
        return group._add(last, Group(group._child_name(last)))

    def require_group(self, path):
        group = self
        for part in _parts(path):
            child = group._children.get(part)
            if child is None:
                child = group._add(part, Group(group._child_name(part)))
            elif not isinstance(child, Group):
                raise TypeError(f"'{child.name}' is a dataset, not a group")
            group = child
        return group

    def create_dataset(self, path, data):
        *parents, last = _parts(path)
        group = self.require_group("/".join(parents)) if parents else self
        return group._add(last, Dataset(group._child_name(last), np.array(data)))


class File(Group):
    """An HDF5 file: mode "r" reads it whole; mode "w" writes it on `close()`.

    Reading refuses what `h5_safety` refuses (external storage, links, virtual datasets, an
    object reached twice) and checks `file_limits`, before any dataset's values are made.

    Args:
        source: a path, or a binary file object (read from / written to its start).
        mode: "r" or "w".
        name: the file for error messages (default: the path, quoted).
    """

    def __init__(self, source, mode="r", name=None):
        super().__init__("/")
        if mode not in ("r", "w"):
            raise ValueError(f"mode must be 'r' or 'w'. Received: mode={mode!r}")
        self.mode = mode
        self._source = source
        self._label = name
        if mode == "r":
            self._read()

    def _read(self):
        from webkeras.saving import h5_read

        if hasattr(self._source, "read"):
            self._source.seek(0)
            data = self._source.read()
        else:
            with open(os.fspath(self._source), "rb") as f:
                data = f.read()
        label = self._label
        if label is None and not hasattr(self._source, "read"):
            label = f"'{os.fspath(self._source)}'"
        root = h5_read.read(data, label)
        self._children, self.attrs = root._children, root.attrs

    def close(self):
        if self.mode != "w" or self._source is None:
            return
        from webkeras.saving import h5_write

        data = h5_write.write(self)
        if hasattr(self._source, "write"):
            self._source.seek(0)
            self._source.write(data)
            if isinstance(self._source, io.BytesIO):
                self._source.truncate()
        else:
            with open(os.fspath(self._source), "wb") as f:
                f.write(data)
        self._source = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # A failed write leaves the target untouched.
        if exc_type is None:
            self.close()


def _parts(path):
    parts = [p for p in str(path).split("/") if p]
    if not parts:
        raise ValueError(f"expected a group or dataset name, received {path!r}")
    return parts
