"""Reads HDF5 bytes into a `pure_h5` tree: what h5py and Keras write for weight files.

Superblocks 0-3; object headers version 1 and 2 (with continuation blocks); groups as symbol
tables (v1 B-tree + symbol nodes + local heap) or compact links; contiguous and compact
datasets of integers, floats and strings; attributes (variable-length strings from global
heaps). Anything else (chunked or filtered datasets, dense link or attribute storage) raises
H5FormatError naming it. Every address is checked against the buffer, so damaged bytes fail
with an error rather than a crash.
"""

import struct

import numpy as np

from webkeras.backend import array_limits
from webkeras.saving import h5_format as fmt
from webkeras.saving.h5_format import H5FormatError
from webkeras.saving.pure_h5 import Dataset, Group

# Groups nest this deep at most (a loop of links in a damaged file ends here).
MAX_DEPTH = 64


def read(data):
    """The root Group of the HDF5 file in `data` (bytes)."""
    try:
        return _Reader(memoryview(bytes(data))).root()
    except array_limits.ArrayTooLargeError:
        raise
    except (struct.error, IndexError, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise H5FormatError(f"truncated or corrupted HDF5 data: {error}") from None


class _Reader:
    def __init__(self, data):
        self.data = data
        self.global_heaps = {}
        if bytes(data[:8]) != fmt.SIGNATURE:
            raise H5FormatError("not an HDF5 file (no HDF5 signature at byte 0)")
        version = data[8]
        if version in (0, 1):
            sizes = (data[13], data[14])
            entry = 24 + (4 if version == 1 else 0) + 32
            self.root_address = struct.unpack_from("<Q", data, entry + 8)[0]
        elif version in (2, 3):
            sizes = (data[9], data[10])
            self.root_address = struct.unpack_from("<Q", data, 36)[0]
        else:
            raise H5FormatError(f"unsupported HDF5 superblock version {version}")
        if sizes != (fmt.OFFSET_SIZE, fmt.LENGTH_SIZE):
            raise H5FormatError(f"unsupported HDF5 offset/length sizes {sizes} (expected 8, 8)")

    def root(self):
        group = Group("/")
        self._fill_group(group, self.root_address, depth=0)
        return group

    def _bytes(self, address, size):
        if address + size > len(self.data) or address == fmt.UNDEFINED:
            raise H5FormatError(f"address {address:#x} + {size} is past the end of the data "
                                f"({len(self.data)} bytes): truncated file?")
        return self.data[address:address + size]

    # -- object headers -----------------------------------------------------------------------
    def _messages(self, address):
        """[(type, data)] of the object header at `address`, continuation blocks included."""
        data = self.data
        if bytes(data[address:address + 4]) == b"OHDR":
            return self._messages_v2(address)
        if data[address] != 1:
            raise H5FormatError(f"no object header at {address:#x}")
        size = struct.unpack_from("<I", data, address + 8)[0]
        blocks, messages, seen = [(address + 16, size)], [], set()
        while blocks:
            start, size = blocks.pop(0)
            _check_new(seen, start)
            self._bytes(start, size)
            position = start
            while position + 8 <= start + size:
                kind, length = struct.unpack_from("<HH", data, position)
                body = self._bytes(position + 8, length)
                if kind == fmt.MSG_CONTINUATION:
                    blocks.append(struct.unpack_from("<QQ", body))
                elif kind != fmt.MSG_NIL:
                    messages.append((kind, body))
                position += 8 + length
        return messages

    def _messages_v2(self, address):
        data = self.data
        flags = data[address + 5]
        position = address + 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        size = int.from_bytes(data[position:position + width], "little")
        blocks, messages, seen = [(position + width, size)], [], set()
        header = 6 if flags & 0x04 else 4
        while blocks:
            start, size = blocks.pop(0)
            _check_new(seen, start)
            self._bytes(start, size)
            position = start
            while position + header <= start + size:
                kind, length = data[position], struct.unpack_from("<H", data, position + 1)[0]
                body = self._bytes(position + header, length)
                if kind == fmt.MSG_CONTINUATION:
                    block, block_size = struct.unpack_from("<QQ", body)
                    # An "OCHK" block: signature, messages, checksum.
                    blocks.append((block + 4, block_size - 8))
                elif kind != fmt.MSG_NIL:
                    messages.append((kind, body))
                position += header + length
        return messages

    # -- groups -------------------------------------------------------------------------------
    def _fill_group(self, group, address, depth):
        if depth > MAX_DEPTH:
            raise H5FormatError(f"groups nest deeper than {MAX_DEPTH} levels (a link loop?)")
        links = []
        for kind, body in self._messages(address):
            if kind == fmt.MSG_SYMBOL_TABLE:
                btree, heap = struct.unpack_from("<QQ", body)
                links += self._symbol_table(btree, self._local_heap(heap))
            elif kind == fmt.MSG_LINK:
                links.append(self._link(body))
            elif kind == fmt.MSG_LINK_INFO:
                heap_address = struct.unpack_from("<Q", body, 2 + (8 if body[1] & 1 else 0))[0]
                if heap_address != fmt.UNDEFINED:
                    raise H5FormatError(f"group '{group.name}' keeps its links in dense "
                                        "storage (a fractal heap), which is not supported")
            elif kind == fmt.MSG_ATTRIBUTE:
                name, value = self._attribute(body)
                group.attrs[name] = value
            elif kind == fmt.MSG_ATTRIBUTE_INFO:
                self._check_no_dense_attributes(group.name, body)
        for name, child_address in links:
            messages = self._messages(child_address)
            if any(kind in (fmt.MSG_SYMBOL_TABLE, fmt.MSG_LINK_INFO, fmt.MSG_LINK)
                   for kind, _ in messages):
                child = group._add(name, Group(group._child_name(name)))
                self._fill_group(child, child_address, depth + 1)
            else:
                group._add(name, self._dataset(group._child_name(name), messages))

    def _local_heap(self, address):
        if bytes(self._bytes(address, 4)) != b"HEAP":
            raise H5FormatError(f"no local heap at {address:#x}")
        size, _, data_address = struct.unpack_from("<QQQ", self.data, address + 8)
        return self._bytes(data_address, size)

    def _symbol_table(self, address, heap):
        """(name, object address) of every entry under the group B-tree node at `address`."""
        node = self._bytes(address, 24)
        if bytes(node[:4]) != b"TREE" or node[4] != 0:
            raise H5FormatError(f"no group B-tree node at {address:#x}")
        level, used = node[5], struct.unpack_from("<H", node, 6)[0]
        links = []
        for i in range(used):
            child = struct.unpack_from("<Q", self.data, address + 24 + 8 + 16 * i)[0]
            if level > 0:
                links += self._symbol_table(child, heap)
                continue
            snod = self._bytes(child, 8)
            if bytes(snod[:4]) != b"SNOD":
                raise H5FormatError(f"no symbol table node at {child:#x}")
            for j in range(struct.unpack_from("<H", snod, 6)[0]):
                name_offset, object_address = struct.unpack_from("<QQ", self.data,
                                                                 child + 8 + 40 * j)
                links.append((_c_string(heap, name_offset), object_address))
        return links

    def _link(self, body):
        flags = body[1]
        position = 2
        link_type = 0
        if flags & 0x08:
            link_type = body[position]
            position += 1
        position += (8 if flags & 0x04 else 0) + (1 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        length = int.from_bytes(body[position:position + width], "little")
        position += width
        name = bytes(body[position:position + length]).decode("utf-8")
        if link_type != 0:
            raise H5FormatError(f"link '{name}' is a soft or external link (not supported)")
        return name, struct.unpack_from("<Q", body, position + length)[0]

    def _check_no_dense_attributes(self, name, body):
        heap_address = struct.unpack_from("<Q", body, 2 + (2 if body[1] & 1 else 0))[0]
        if heap_address != fmt.UNDEFINED:
            raise H5FormatError(f"'{name}' keeps its attributes in dense storage (a fractal "
                                "heap), which is not supported")

    # -- datasets and attributes --------------------------------------------------------------
    def _dataset(self, name, messages):
        shape = dtype_info = raw = None
        for kind, body in messages:
            if kind == fmt.MSG_DATASPACE:
                shape = _dataspace(body)
            elif kind == fmt.MSG_DATATYPE:
                dtype_info = fmt.decode_datatype(body)
            elif kind == fmt.MSG_LAYOUT:
                raw = self._layout(name, body)
            elif kind == fmt.MSG_FILTER_PIPELINE:
                raise H5FormatError(f"dataset '{name}' is compressed or filtered (not supported)")
        if shape is None or dtype_info is None or raw is None:
            raise H5FormatError(f"'{name}' is neither a group nor a dataset webkeras can read")
        return Dataset(name, self._values(name, dtype_info, shape, raw))

    def _layout(self, name, body):
        version, layout = body[0], body[1]
        if version not in (3, 4):
            raise H5FormatError(f"dataset '{name}': data layout version {version} is not supported")
        if layout == fmt.LAYOUT_COMPACT:
            size = struct.unpack_from("<H", body, 2)[0]
            return body[4:4 + size]
        if layout == fmt.LAYOUT_CONTIGUOUS:
            address, size = struct.unpack_from("<QQ", body, 2)
            return b"" if address == fmt.UNDEFINED else self._bytes(address, size)
        raise H5FormatError(f"dataset '{name}' is chunked or virtual (layout class {layout}); "
                            "webkeras's pure-Python HDF5 reads contiguous and compact ones")

    def _values(self, name, dtype_info, shape, raw):
        kind, dtype, size = dtype_info
        array_limits.check_array_size(shape, dtype, f"HDF5 dataset '{name}'")
        count = int(np.prod(shape, dtype=np.int64))
        if kind == "vlen-string":
            elements = [fmt.VLEN_ELEMENT.unpack_from(raw, size * i) for i in range(count)]
            strings = [self._global_heap_object(*element) for element in elements]
            return np.array(strings, dtype=object).reshape(shape)
        if len(raw) == 0 and count:
            # Never written: the default fill value, zeros.
            return np.zeros(shape, dtype=dtype.newbyteorder("="))
        if len(raw) < count * size:
            raise H5FormatError(f"'{name}': {len(raw)} bytes of data for shape {shape} of "
                                f"{dtype}")
        values = np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)
        return values.astype(dtype.newbyteorder("="))

    def _global_heap_object(self, length, address, index):
        if address not in self.global_heaps:
            header = self._bytes(address, 16)
            if bytes(header[:4]) != b"GCOL":
                raise H5FormatError(f"no global heap collection at {address:#x}")
            size = struct.unpack_from("<Q", header, 8)[0]
            collection, objects, position = self._bytes(address, size), {}, 16
            while position + 16 <= size:
                number, _, object_size = struct.unpack_from("<HH4xQ", collection, position)
                if number == 0:
                    break
                objects[number] = bytes(collection[position + 16:position + 16 + object_size])
                position += 16 + fmt.pad8(object_size)
            self.global_heaps[address] = objects
        try:
            return self.global_heaps[address][index][:length].decode("utf-8")
        except KeyError:
            raise H5FormatError(f"global heap {address:#x} has no object {index}") from None

    def _attribute(self, body):
        version = body[0]
        name_size, type_size, space_size = struct.unpack_from("<HHH", body, 2)
        position = 8 + (1 if version == 3 else 0)
        sizes = [name_size, type_size, space_size]
        if version == 1:
            sizes = [fmt.pad8(s) for s in sizes]
        elif version not in (2, 3):
            raise H5FormatError(f"attribute message version {version} is not supported")
        name = bytes(body[position:position + name_size]).split(b"\0", 1)[0].decode("utf-8")
        position += sizes[0]
        dtype_info = fmt.decode_datatype(body, position)
        shape = _dataspace(body[position + sizes[1]:])
        position += sizes[1] + sizes[2]
        value = self._values(name, dtype_info, shape, body[position:])
        # As h5py: a scalar attribute is a scalar (str for strings), arrays stay arrays.
        return name, value[()] if value.shape == () else value


def _dataspace(body):
    """The shape; maximum sizes, when present, follow the sizes and are not needed."""
    version, rank = body[0], body[1]
    if version == 1:
        start = 8
    elif version == 2:
        if body[3] == 2:
            raise H5FormatError("null (empty) dataspaces are not supported")
        start = 4
    else:
        raise H5FormatError(f"dataspace version {version} is not supported")
    return tuple(struct.unpack_from(f"<{rank}Q", body, start)) if rank else ()


def _check_new(seen, block):
    if block in seen:
        raise H5FormatError(f"object header continuation loops back to {block:#x}")
    seen.add(block)


def _c_string(heap, offset):
    end = bytes(heap[offset:]).index(b"\0")
    return bytes(heap[offset:offset + end]).decode("utf-8")
