"""Conversion, dtypes and the helper every primitive op uses to call its backend."""

import numpy as np

from webkeras.backend import get_backend
from webkeras.ops.tape import record
from webkeras.ops.tensor import Tensor

FLOAT_DTYPES = ("float16", "float32", "float64")
_PROMOTION_ORDER = ("bool", "int32", "float32", "float64")


def is_float_dtype(dtype):
    return str(dtype) in FLOAT_DTYPES


def standardize_dtype(dtype):
    if dtype is None:
        return None
    dtype = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if dtype in ("int64", "int16", "int8", "uint8", "uint16", "uint32", "uint64"):
        return "int32"
    return dtype


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A Tensor on the active backend (uploads host data); `dtype` casts."""
    if sparse or ragged:
        raise ValueError("webkeras has no sparse or ragged tensors: pass dense data, with "
                         "sparse=None and ragged=None.")
    backend = get_backend()
    if isinstance(x, Tensor):
        if x.backend is not backend:
            x = Tensor(backend.from_numpy(x.numpy()), backend)
        return cast(x, dtype) if dtype is not None and x.dtype != dtype else x
    if not isinstance(x, np.ndarray):
        x = np.asarray(x, dtype=dtype)
        if dtype is None and x.dtype == np.float64:
            x = x.astype(np.float32)
    if x.dtype == object:
        raise ValueError(f"Cannot convert an array of Python objects to a tensor: {x!r:.200}")
    target = standardize_dtype(dtype) or standardize_dtype(x.dtype)
    if target == "float16":
        target = "float32"
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise ValueError(
            f"Expected numeric data, received an array of dtype {x.dtype}. "
            "Convert strings or objects to numbers first."
        )
    return Tensor(backend.from_numpy(np.asarray(x, dtype=target, order="C")), backend)


def convert_to_numpy(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def result_dtype(*dtypes):
    """Promotion for mixed inputs: bool < int32 < float32 < float64."""
    ranks = [_PROMOTION_ORDER.index(d) if d in _PROMOTION_ORDER else 2 for d in dtypes]
    return _PROMOTION_ORDER[max(ranks)]


def cast(x, dtype):
    x = convert_to_tensor(x)
    dtype = standardize_dtype(dtype)
    if x.dtype == dtype:
        return x
    out = Tensor(x.backend.cast(x.data, dtype), x.backend)
    if not is_float_dtype(dtype) or not is_float_dtype(x.dtype):
        return out
    source_dtype = x.dtype
    return record(out, [x], lambda g, needs: (cast(g, source_dtype),))


def make(data, inputs=(), vjp=None):
    """Wrap a backend result as a Tensor and record its VJP (`vjp(g, needs)`, see tape)."""
    out = Tensor(data, get_backend())
    return record(out, inputs, vjp) if vjp is not None else out


def shape(x):
    return convert_to_tensor(x).shape if not hasattr(x, "shape") else tuple(x.shape)


def dtype(x):
    """The tensor's dtype name ("float32", "int32", "bool", ...)."""
    return standardize_dtype(x.dtype) if hasattr(x, "dtype") else convert_to_tensor(x).dtype


def is_tensor(x):
    return isinstance(x, Tensor)


def saturate_cast(x, dtype):
    """Cast, clipping first to the target dtype's range (no integer wrap-around)."""
    x = convert_to_tensor(x)
    dtype = standardize_dtype(dtype)
    if not is_float_dtype(dtype) and dtype != "bool" and is_float_dtype(x.dtype):
        # float32 cannot hold 2**31 - 1; its largest value below it is 2**31 - 128.
        return cast(_clip(x, -2.0**31, 2.0**31 - 128.0), dtype)
    return cast(x, dtype)


def _clip(x, low, high):
    from webkeras.ops.numpy import clip

    return clip(x, low, high)


def stop_gradient(x):
    """A record-free alias of `x`'s data. Also what a VJP closes over instead of its own
    output: a closure over the output would make a reference cycle (out -> node -> vjp ->
    out) and keep device buffers alive until the garbage collector runs."""
    x = convert_to_tensor(x)
    return Tensor(x.data, x.backend)
