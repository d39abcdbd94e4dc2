"""Checks an HDF5 file's global heap collections before libhdf5 reads them.

Variable-length strings (the attributes `model_config`, `layer_names`, `weight_names` of every
Keras `.h5` file) live in global heap collections. libhdf5 parses a whole collection the first
time any object in it is read, stepping from object to object by each object's declared size;
a free-space object (index 0) declaring size 0 never advances the step, and libhdf5 loops
forever inside C code, where no Python limit can stop it (tests/fuzz_findings/hangs/).

`check_global_heaps` walks every collection the way libhdf5 would, in Python and in bounded
time, and refuses the file before h5py reads an attribute. A collection starts with the
signature "GCOL" (libhdf5 refuses one that does not), so finding every occurrence of it in the
file covers every collection libhdf5 could parse, wherever the file's addresses point.
"""

import contextlib
import mmap
import os

from webkeras.saving import h5_format as fmt
from webkeras.utils.file_errors import ModelFileError

COLLECTION_SIGNATURE = b"GCOL"
COLLECTION_VERSION = 1
# libhdf5 looks for the superblock at 0, then at 512, 1024, 2048, ... (after a user block).
FIRST_USER_BLOCK = 512
# Heap objects walked in one file at most: Keras files hold a few hundred; this bounds the
# time a crafted file of millions of tiny objects could take here (~0.5 s).
MAX_HEAP_OBJECTS = 1_000_000


def check_global_heaps(source, name):
    """Raises ModelFileError if a global heap collection in `source` would hang libhdf5.

    Args:
        source: a path, or a binary file object (BytesIO, or one with a `fileno()`).
        name: the file for messages, e.g. "'m.h5'".

    Raises:
        ModelFileError: a collection whose objects do not tile it: an object of size 0
            (libhdf5 loops forever on it) or one running past the collection's end.
    """
    with _file_bytes(source) as data:
        length_size = _length_size(data)
        if length_size is None:
            # No superblock: h5py refuses the file itself, without reading any heap.
            return
        walked = 0
        address = data.find(COLLECTION_SIGNATURE)
        while address != -1:
            walked += _check_collection(data, address, length_size, name, walked)
            address = data.find(COLLECTION_SIGNATURE, address + 1)


def _check_collection(data, address, length_size, name, walked):
    """Walks the collection at `address` as libhdf5 does; returns the objects it holds."""
    header_size = 8 + length_size
    if address + header_size > len(data) or data[address + 4] != COLLECTION_VERSION:
        # libhdf5 refuses a collection of another version, or one cut off, with an error.
        return 0
    size = _unsigned(data, address + 8, length_size)
    end = address + size
    if end > len(data):
        return 0
    position, objects = address + header_size, 0
    object_header_size = 8 + length_size
    while position < end and position + object_header_size <= end:
        index = _unsigned(data, position, 2)
        object_size = _unsigned(data, position + 8, length_size)
        # Object 0 is the free space, its size counting its own header; the others are their
        # header plus their data padded to 8 bytes (HDF5 File Format Specification III.E).
        step = object_size if index == 0 else object_header_size + fmt.pad8(object_size)
        if step == 0 or position + step > end:
            problem = ("declares size 0, on which libhdf5 would loop forever" if step == 0
                       else f"runs {position + step - end} bytes past the collection's end")
            raise ModelFileError(
                f"{name} is not a readable HDF5 file (corrupted?): in the global heap "
                f"collection at byte {address:#x} ({size} bytes, holding the file's "
                f"variable-length strings), object {index} at byte {position:#x} {problem}. "
                "Expected objects that tile the collection exactly, as HDF5 writes them.")
        position += step
        objects += 1
        if walked + objects > MAX_HEAP_OBJECTS:
            raise ModelFileError(
                f"{name} is not a readable HDF5 file (corrupted?): its global heaps hold more "
                f"than {MAX_HEAP_OBJECTS:,} objects; Keras files hold a few hundred.")
    return objects


def _length_size(data):
    """The superblock's "size of lengths" (bytes), or None without a superblock."""
    offset = 0
    while offset + 16 <= len(data):
        if data[offset:offset + 8] == fmt.SIGNATURE:
            version = data[offset + 8]
            return data[offset + 14] if version in (0, 1) else data[offset + 10]
        offset = FIRST_USER_BLOCK if offset == 0 else offset * 2
    return None


def _unsigned(data, offset, size):
    return int.from_bytes(data[offset:offset + size], "little")


@contextlib.contextmanager
def _file_bytes(source):
    """The file's bytes, searchable (`find`) without reading a large file into memory."""
    if hasattr(source, "getvalue"):
        yield source.getvalue()
    elif hasattr(source, "read"):
        try:
            fileno = source.fileno()
        except OSError:
            # A file object with no file behind it: its bytes, read from the start.
            position = source.tell()
            source.seek(0)
            data = source.read()
            source.seek(position)
            yield data
        else:
            with _mapped(fileno) as data:
                yield data
    else:
        with open(os.fspath(source), "rb") as handle, _mapped(handle.fileno()) as data:
            yield data


@contextlib.contextmanager
def _mapped(fileno):
    if os.fstat(fileno).st_size == 0:
        # mmap cannot map an empty file.
        yield b""
        return
    with mmap.mmap(fileno, 0, access=mmap.ACCESS_READ) as data:
        yield data
