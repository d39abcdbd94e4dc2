"""The HDF5 on-disk pieces webkeras's pure-Python HDF5 reads and writes (h5_read, h5_write).

The subset is what Keras's weight files use, in the layout h5py writes by default
(`libver="earliest"`): superblock 0, version-1 object headers, symbol-table groups (v1 B-tree,
symbol nodes, local heap), contiguous or compact datasets, attributes whose strings live in
a global heap. Names and numbers follow the HDF5 File Format Specification 3.0.
"""

import struct

import numpy as np

from webkeras.utils.file_errors import ModelFileError

SIGNATURE = b"\x89HDF\r\n\x1a\n"
UNDEFINED = 0xFFFFFFFFFFFFFFFF
OFFSET_SIZE = 8
LENGTH_SIZE = 8

# Object header message types.
MSG_NIL = 0x00
MSG_DATASPACE = 0x01
MSG_LINK_INFO = 0x02
MSG_DATATYPE = 0x03
MSG_FILL_VALUE = 0x05
MSG_LINK = 0x06
# A dataset whose raw data lives in other files (refused: see h5_safety).
MSG_EXTERNAL_FILES = 0x07
MSG_LAYOUT = 0x08
MSG_FILTER_PIPELINE = 0x0B
MSG_ATTRIBUTE = 0x0C
MSG_CONTINUATION = 0x10
MSG_SYMBOL_TABLE = 0x11
MSG_ATTRIBUTE_INFO = 0x15

# Datatype classes.
CLASS_FIXED_POINT = 0
CLASS_FLOATING_POINT = 1
CLASS_STRING = 3
CLASS_VARIABLE_LENGTH = 9

# Data layout classes.
LAYOUT_COMPACT = 0
LAYOUT_CONTIGUOUS = 1
LAYOUT_CHUNKED = 2
LAYOUT_VIRTUAL = 3

# Link types of a link message; a symbol-table entry's cache type 2 is a soft link too.
LINK_HARD = 0
LINK_SOFT = 1
LINK_EXTERNAL = 64
CACHE_SOFT_LINK = 2
# A symbol-table entry: name offset, object header address, cache type, reserved, scratch.
SYMBOL_ENTRY = struct.Struct("<QQII16s")

# (exponent location, exponent size, mantissa size, exponent bias) of IEEE floats by size.
FLOAT_FIELDS = {2: (10, 5, 10, 15), 4: (23, 8, 23, 127), 8: (52, 11, 52, 1023)}
# A variable-length string element: length (4), global heap collection address, object index.
VLEN_ELEMENT = struct.Struct("<IQI")


class H5FormatError(ModelFileError):
    """The bytes are not HDF5, or use a part of HDF5 this reader does not implement.

    A ModelFileError, like every refusal of a model file.
    """


def pad8(n):
    return (n + 7) & ~7


def encode_datatype(dtype):
    """The datatype message for a numeric NumPy dtype (little-endian, as h5py writes it)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        bits = 0x08 if dtype.kind == "i" else 0x00
        return (struct.pack("<BBBBI", 0x10 | CLASS_FIXED_POINT, bits, 0, 0, dtype.itemsize)
                + struct.pack("<HH", 0, 8 * dtype.itemsize))
    if dtype.kind == "f" and dtype.itemsize in FLOAT_FIELDS:
        exponent_at, exponent_bits, mantissa_bits, bias = FLOAT_FIELDS[dtype.itemsize]
        sign_at = 8 * dtype.itemsize - 1
        # 0x20: the mantissa's leading 1 is implied (IEEE normalization).
        return (struct.pack("<BBBBI", 0x10 | CLASS_FLOATING_POINT, 0x20, sign_at, 0,
                            dtype.itemsize)
                + struct.pack("<HHBBBBI", 0, 8 * dtype.itemsize, exponent_at, exponent_bits,
                              0, mantissa_bits, bias))
    raise TypeError(
        f"webkeras's pure-Python HDF5 writes integer and float16/32/64 arrays; received "
        f"dtype {dtype}. Install h5py for other types."
    )


def encode_vlen_string_datatype():
    """A variable-length UTF-8 string (what h5py writes for a Python `str`)."""
    base = struct.pack("<BBBBI", 0x10 | CLASS_FIXED_POINT, 0, 0, 0, 1) + struct.pack("<HH", 0, 8)
    # Type 1 = string, padding 0 = null-terminated, character set 1 = UTF-8.
    return struct.pack("<BBBBI", 0x10 | CLASS_VARIABLE_LENGTH, 0x01, 0x01, 0,
                       VLEN_ELEMENT.size) + base


def decode_datatype(data, offset=0):
    """(kind, NumPy dtype or None, size) of the datatype message at `offset`.

    kind is "numeric", "string" (fixed-length bytes) or "vlen-string".
    """
    class_version, b0, _, _, size = struct.unpack_from("<BBBBI", data, offset)
    type_class = class_version & 0x0F
    order = ">" if b0 & 0x01 else "<"
    if type_class == CLASS_FIXED_POINT:
        return "numeric", np.dtype(f"{order}{'i' if b0 & 0x08 else 'u'}{size}"), size
    if type_class == CLASS_FLOATING_POINT:
        if b0 & 0x40 or size not in FLOAT_FIELDS:
            raise H5FormatError(f"unsupported floating-point type ({size} bytes, flags {b0:#x})")
        return "numeric", np.dtype(f"{order}f{size}"), size
    if type_class == CLASS_STRING:
        return "string", np.dtype(f"S{size}"), size
    if type_class == CLASS_VARIABLE_LENGTH and b0 & 0x0F == 1:
        return "vlen-string", None, size
    raise H5FormatError(
        f"unsupported HDF5 datatype class {type_class} (webkeras's pure-Python HDF5 reads "
        "integers, floats and strings; install h5py for others)"
    )
