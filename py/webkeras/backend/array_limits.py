"""The largest array webkeras allocates for a shape it was only told about.

A model config (`Dense(units=10**9)`) or an HDF5 dataset header declares shapes before any
data backs them; a crafted one must fail with an error naming it, before memory is touched
(native NumPy may overcommit and then fill the machine; the tab's wasm32 heap stops at 4 GiB).
"""

import math

import numpy as np

from webkeras.utils import file_limits
from webkeras.utils.file_errors import FileLimitError

# WebGPU buffers, TF.js and wasm32 NumPy index arrays with signed 32-bit integers.
MAX_ELEMENTS = 2**31 - 1
MAX_BYTES_ENV = file_limits.LIMITS["array_bytes"].env


class ArrayTooLargeError(FileLimitError):
    """A declared shape over the limits below; a ValueError, as Keras raises for bad configs."""


def max_bytes():
    """The byte limit per array: `$WEBKERAS_MAX_ARRAY_BYTES`, else 4 GiB."""
    return file_limits.get("array_bytes")


def _itemsize(dtype):
    try:
        return np.dtype(str(dtype)).itemsize
    except (TypeError, ValueError, SyntaxError):
        # Not a NumPy dtype (a malformed comma string raises SyntaxError): creating the array
        # fails with its own error; count elements.
        return 1


def check_array_size(shape, dtype, what):
    """Raises ArrayTooLargeError when an array of `shape` and `dtype` is over the limits.

    Args:
        shape: the declared shape (Python ints; no overflow however large).
        dtype: its dtype name.
        what: the array, for the message, e.g. "variable 'dense/kernel'".
    """
    elements = math.prod(int(d) for d in shape)
    size = elements * _itemsize(dtype)
    limit = max_bytes()
    if elements <= MAX_ELEMENTS and size <= limit:
        return
    raise ArrayTooLargeError(
        f"{what} has shape {tuple(int(d) for d in shape)}: {elements:,} elements of {dtype} "
        f"({size:,} bytes), over webkeras's limit of {MAX_ELEMENTS:,} elements and "
        f"{limit:,} bytes per array. Check the shape that config or file declares (damaged or "
        f"crafted?), or set ${MAX_BYTES_ENV} to raise the byte limit.")
