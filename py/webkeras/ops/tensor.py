"""Tensor and Variable: thin, backend-independent wrappers around a backend's raw array.

A Tensor never leaves its device by itself: only `.numpy()` (and `float()`, `repr`) read back.
`_node` holds the gradient record (parents and VJP) when a GradientTape recorded the op.
"""

import itertools
import weakref

from webkeras import ops
from webkeras.backend import array_limits


class Tensor:
    __slots__ = ("data", "backend", "_node", "__weakref__")
    # NumPy defers to our operators (ndarray + Tensor calls Tensor.__radd__).
    __array_priority__ = 100

    def __init__(self, data, backend):
        self.data = data
        self.backend = backend
        self._node = None

    @property
    def shape(self):
        return self.backend.shape(self.data)

    @property
    def dtype(self):
        return self.backend.dtype(self.data)

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return self.shape[0]

    def numpy(self):
        return self.backend.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array.astype(dtype) if dtype is not None else array

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def __repr__(self):
        return f"<{type(self).__name__} shape={self.shape} dtype={self.dtype}\n{self.numpy()}>"

    # Python operators map onto webkeras.ops, looked up when called: the ops are built on this
    # class, so the package is still loading while the class is defined.
    def _op(name):
        def method(self, *args):
            return getattr(ops, name)(self, *args)

        return method

    def _rop(name):
        def method(self, other):
            return getattr(ops, name)(other, self)

        return method

    __add__, __radd__ = _op("add"), _rop("add")
    __sub__, __rsub__ = _op("subtract"), _rop("subtract")
    __mul__, __rmul__ = _op("multiply"), _rop("multiply")
    __truediv__, __rtruediv__ = _op("divide"), _rop("divide")
    __matmul__, __rmatmul__ = _op("matmul"), _rop("matmul")
    __pow__, __rpow__ = _op("power"), _rop("power")
    __neg__ = _op("negative")
    __abs__ = _op("abs")
    __lt__, __le__ = _op("less"), _op("less_equal")
    __gt__, __ge__ = _op("greater"), _op("greater_equal")
    __getitem__ = _op("getitem")
    del _op, _rop

    @property
    def _keras_mask(self):
        """The mask a layer attached to this output (`Embedding(mask_zero=True)`), or None."""
        return _masks.get(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return ops.reshape(self, shape)

    @property
    def T(self):
        return ops.transpose(self)


_variable_ids = itertools.count()


class Variable(Tensor):
    """A mutable tensor owned by a layer or optimizer (`keras.Variable`)."""

    __slots__ = ("name", "path", "trainable", "_uid", "regularizer", "constraint")

    def __init__(self, initializer, shape=None, dtype="float32", trainable=True, name=None,
                 parent_path=None):
        self._uid = next(_variable_ids)
        self.name = name or f"variable_{self._uid}"
        # As Keras 3: the owner's path, then the name ("dense/kernel").
        self.path = f"{parent_path}/{self.name}" if parent_path else self.name
        if callable(initializer):
            # Shapes from a config allocate nothing until checked.
            array_limits.check_array_size(shape, dtype, f"Variable '{self.path}'")
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = initializer
        value = ops.cast(ops.convert_to_tensor(value), dtype)
        # A variable owns its storage: `assign` must never write into the tensor it came from.
        storage = value.backend.full(value.shape, 0, value.dtype)
        value.backend.assign(storage, value.data)
        super().__init__(storage, value.backend)
        self.trainable = trainable
        self.regularizer = None
        self.constraint = None

    def assign(self, value):
        value = ops.convert_to_tensor(value, dtype=self.dtype)
        if value.shape != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to variable '{self.path}' "
                f"of shape {self.shape}."
            )
        self.backend.assign(self.data, value.data)
        return self

    def assign_add(self, value):
        return self.assign(self + value)

    def assign_sub(self, value):
        return self.assign(self - value)

    @property
    def value(self):
        return self

    def __hash__(self):
        return hash(self._uid)

    def __eq__(self, other):
        return self is other

    def __repr__(self):
        return (
            f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}, "
            f"value={self.numpy()}>"
        )


def is_tensor(x):
    return isinstance(x, Tensor)


def numpy_values(values):
    """`values` with each Tensor replaced by its ndarray, the tensors of one backend read
    back together (`Backend.to_numpy_many`: one wait for a step's loss and metrics)."""
    out = list(values)
    by_backend = {}
    for index, value in enumerate(out):
        if isinstance(value, Tensor):
            by_backend.setdefault(value.backend, []).append(index)
    for backend, indices in by_backend.items():
        for index, host in zip(indices, backend.to_numpy_many([out[i].data for i in indices])):
            out[index] = host
    return out


# Masks ride beside tensors (Tensor has __slots__): Embedding(mask_zero=True) -> RNN.
_masks = weakref.WeakKeyDictionary()


def get_mask(x):
    """The mask attached to `x`: a tensor's from `set_mask`, a symbolic tensor's own."""
    if isinstance(x, Tensor):
        return _masks.get(x)
    return getattr(x, "_keras_mask", None)


def set_mask(x, mask):
    if isinstance(x, Tensor) and mask is not None:
        _masks[x] = mask
    return x
