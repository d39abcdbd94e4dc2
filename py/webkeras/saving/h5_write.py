"""Writes a `pure_h5` tree as HDF5 bytes in the layout h5py writes by default.

Superblock 0; every object a version-1 object header; every group a symbol table (one v1
B-tree leaf over symbol nodes of 8 entries, names in a local heap); every dataset contiguous;
every string attribute a variable-length UTF-8 string in one global heap collection.
"""

import math
import struct

import numpy as np

from webkeras.saving import h5_format as fmt

# Symbol nodes hold 2 * GROUP_LEAF_K entries; B-tree nodes up to 2 * K children, where K is
# chosen from the largest group (at least h5py's 16).
GROUP_LEAF_K = 4
MIN_GROUP_INTERNAL_K = 16
SUPERBLOCK_SIZE = 56 + 40
SYMBOL_ENTRY = struct.Struct("<QQII16s")
GLOBAL_HEAP_MIN_BYTES = 4096
# H5HL_FREE_NULL: a local heap with no free block.
LOCAL_HEAP_NO_FREE_BLOCK = 1


def write(root):
    """The HDF5 file for `root` (a pure_h5 Group), as bytes."""
    return _Writer(root).data()


class _Writer:
    def __init__(self, root):
        self.out = bytearray(SUPERBLOCK_SIZE)
        self.internal_k = max(MIN_GROUP_INTERNAL_K,
                              math.ceil(_largest_group(root) / (2 * GROUP_LEAF_K) / 2))
        self.heap_address, self.heap_index = self._global_heap(_strings_of(root))
        address, btree, heap = self._group(root)
        self._superblock(address, btree, heap)

    def data(self):
        return bytes(self.out)

    def _append(self, data):
        """Appends `data` at the next 8-byte boundary; returns its address."""
        self.out += bytes(fmt.pad8(len(self.out)) - len(self.out))
        address = len(self.out)
        self.out += data
        return address

    def _superblock(self, root_address, btree, heap):
        self.out += bytes(fmt.pad8(len(self.out)) - len(self.out))
        struct.pack_into(
            "<8sBBBBBBBBHHIQQQQ", self.out, 0, fmt.SIGNATURE, 0, 0, 0, 0, 0,
            fmt.OFFSET_SIZE, fmt.LENGTH_SIZE, 0, GROUP_LEAF_K, self.internal_k, 0,
            0, fmt.UNDEFINED, len(self.out), fmt.UNDEFINED,
        )
        SYMBOL_ENTRY.pack_into(self.out, 56, 0, root_address, 1, 0,
                               struct.pack("<QQ", btree, heap))

    # -- global heap (the bytes of variable-length strings) ------------------------------------
    def _global_heap(self, strings):
        if not strings:
            return fmt.UNDEFINED, {}
        index, objects = {}, bytearray()
        for i, text in enumerate(strings, start=1):
            data = text.encode("utf-8")
            index[text] = (i, len(data))
            objects += struct.pack("<HH4xQ", i, 0, len(data)) + data
            objects += bytes(fmt.pad8(len(data)) - len(data))
        used = 16 + len(objects)
        size = max(GLOBAL_HEAP_MIN_BYTES, used + 16)
        # Object 0 is the free space that fills the collection to its size.
        free = struct.pack("<HH4xQ", 0, 0, size - used)
        collection = (b"GCOL" + struct.pack("<B3xQ", 1, size) + objects + free
                      + bytes(size - used - len(free)))
        return self._append(collection), index

    # -- objects ------------------------------------------------------------------------------
    def _object(self, node):
        """Writes `node` (and what it holds); returns (header address, cache scratch)."""
        if hasattr(node, "_children"):
            address, btree, heap = self._group(node)
            return address, 1, struct.pack("<QQ", btree, heap)
        return self._dataset(node), 0, bytes(16)

    def _group(self, group):
        names = sorted(group._children)
        children = [self._object(group._children[name]) for name in names]
        heap_data, offsets = bytearray(8), []  # offset 0: the empty string
        for name in names:
            offsets.append(len(heap_data))
            encoded = name.encode("utf-8") + b"\0"
            heap_data += encoded + bytes(fmt.pad8(len(encoded)) - len(encoded))
        heap_header = b"HEAP" + struct.pack("<B3xQQQ", 0, len(heap_data),
                                            LOCAL_HEAP_NO_FREE_BLOCK, 0)
        heap = self._append(heap_header)
        struct.pack_into("<Q", self.out, heap + 24, self._append(bytes(heap_data)))

        per_node = 2 * GROUP_LEAF_K
        nodes, keys = [], [0]
        for start in range(0, len(names), per_node):
            entries = b"".join(
                SYMBOL_ENTRY.pack(offsets[i], children[i][0], children[i][1], 0, children[i][2])
                for i in range(start, min(start + per_node, len(names)))
            )
            count = min(per_node, len(names) - start)
            node = b"SNOD" + struct.pack("<BBH", 1, 0, count) + entries
            nodes.append(self._append(node + bytes(SYMBOL_ENTRY.size * (per_node - count))))
            keys.append(offsets[start + count - 1])  # the last (largest) name of that node
        children_max = 2 * self.internal_k
        tree = b"TREE" + struct.pack("<BBHQQ", 0, 0, len(nodes), fmt.UNDEFINED, fmt.UNDEFINED)
        tree += struct.pack("<Q", keys[0])
        for node, key in zip(nodes, keys[1:]):
            tree += struct.pack("<QQ", node, key)
        tree += bytes(24 + (2 * children_max + 1) * 8 - len(tree))
        btree = self._append(tree)

        messages = [(fmt.MSG_SYMBOL_TABLE, struct.pack("<QQ", btree, heap), 0)]
        messages += self._attributes(group)
        return self._header(messages), btree, heap

    def _dataset(self, dataset):
        data = np.asarray(dataset[()])
        if data.dtype.kind not in "iuf":
            raise TypeError(
                f"webkeras's pure-Python HDF5 writes numeric datasets; '{dataset.name}' has "
                f"dtype {data.dtype}. Install h5py for other types."
            )
        raw = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<")).tobytes()
        address = self._append(raw) if raw else fmt.UNDEFINED
        messages = [
            (fmt.MSG_DATASPACE, _dataspace(data.shape), 0),
            (fmt.MSG_DATATYPE, fmt.encode_datatype(data.dtype), 1),
            # Version 2; allocation late, fill written if set, default fill value.
            (fmt.MSG_FILL_VALUE, struct.pack("<BBBBI", 2, 2, 2, 1, 0), 1),
            (fmt.MSG_LAYOUT, struct.pack("<BBQQ", 3, fmt.LAYOUT_CONTIGUOUS, address, len(raw)),
             0),
        ]
        messages += self._attributes(dataset)
        return self._header(messages)

    def _header(self, messages):
        body = bytearray()
        for kind, data, flags in messages:
            body += struct.pack("<HHB3x", kind, fmt.pad8(len(data)), flags)
            body += data + bytes(fmt.pad8(len(data)) - len(data))
        return self._append(struct.pack("<BBHII4x", 1, 0, len(messages), 1, len(body)) + body)

    def _attributes(self, node):
        messages = []
        for name, value in node.attrs.items():
            datatype, shape, raw = self._attribute_value(node, name, value)
            encoded = name.encode("utf-8") + b"\0"
            space = _dataspace(shape)
            data = struct.pack("<BBHHH", 1, 0, len(encoded), len(datatype), len(space))
            for part in (encoded, datatype, space):
                data += part + bytes(fmt.pad8(len(part)) - len(part))
            messages.append((fmt.MSG_ATTRIBUTE, data + raw, 0))
        return messages

    def _attribute_value(self, node, name, value):
        """(datatype message, shape, raw data) of an attribute value."""
        array = np.asarray(value)
        strings = _strings(array)
        if strings is not None:
            elements = b"".join(
                fmt.VLEN_ELEMENT.pack(length, self.heap_address, index)
                for index, length in (self.heap_index[s] for s in strings)
            )
            return fmt.encode_vlen_string_datatype(), array.shape, elements
        if array.dtype.kind == "S":
            # Fixed-length bytes, null-padded (h5py's mapping of NumPy "S").
            datatype = struct.pack("<BBBBI", 0x10 | fmt.CLASS_STRING, 0x01, 0, 0,
                                   array.dtype.itemsize)
            return datatype, array.shape, array.tobytes()
        if array.dtype.kind in "iuf":
            raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
            return fmt.encode_datatype(array.dtype), array.shape, raw
        raise TypeError(
            f"Attribute '{name}' of '{node.name}': webkeras's pure-Python HDF5 writes str, "
            f"bytes and numeric attributes; received {type(value).__name__} ({array.dtype})."
        )


def _strings(array):
    """The elements of a str (or object array of str / bytes) value as str; None otherwise."""
    if array.dtype.kind not in "OU":
        return None
    elements = array.reshape(-1).tolist()
    if not all(isinstance(v, (str, bytes)) for v in elements):
        return None
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in elements]


def _dataspace(shape):
    """Dataspace message version 1 (rank 0 is a scalar); maximum sizes equal to the sizes."""
    if not shape:
        return struct.pack("<BBBB4x", 1, 0, 0, 0)
    dims = struct.pack(f"<{len(shape)}Q", *shape)
    return struct.pack("<BBBB4x", 1, len(shape), 1, 0) + dims + dims


def _walk(group):
    yield group
    for child in group._children.values():
        if hasattr(child, "_children"):
            yield from _walk(child)
        else:
            yield child


def _largest_group(root):
    return max(len(g._children) for g in _walk(root) if hasattr(g, "_children"))


def _strings_of(root):
    """Every string that variable-length attributes hold, each once, in a stable order."""
    seen = {}
    for node in _walk(root):
        for value in node.attrs.values():
            for text in _strings(np.asarray(value)) or ():
                seen.setdefault(text, None)
    return list(seen)
