"""Reads HDF5 bytes into a `pure_h5` tree: what h5py and Keras write for weight files.

Superblocks 0-3; object headers version 1 and 2 (with continuation blocks); groups as symbol
tables (v1 B-tree + symbol nodes + local heap) or compact links; contiguous and compact
datasets of integers, floats and strings; attributes (variable-length strings from global
heaps). Anything else (chunked or filtered datasets, dense link or attribute storage) raises
H5FormatError naming it. Every address is checked against the buffer, so damaged bytes fail
with an error rather than a crash.

What `h5_safety` refuses is refused here while the tree is parsed, before any dataset's values
are made: external storage, soft / external / user-defined links, virtual datasets, an object
reached twice; objects and declared dataset bytes are counted against `file_limits`.
"""

import struct

import numpy as np

from webkeras.backend import array_limits
from webkeras.saving import h5_format as fmt
from webkeras.saving import h5_safety
from webkeras.saving.h5_format import H5FormatError
from webkeras.saving.pure_h5 import Dataset, Group
from webkeras.utils.file_errors import ModelFileError

# Groups nest this deep at most (Keras nests a few levels; this bounds the recursion).
MAX_DEPTH = 64


def read(data, source=None):
    """The root Group of the HDF5 file in `data` (bytes).

    Args:
        data: the file's bytes.
        source: the file for messages, e.g. "'model.weights.h5'".

    Raises:
        H5FormatError: damaged bytes, or a part of HDF5 this reader does not implement.
        UnsafeContentError: content that reaches outside the file (see `h5_safety`).
        FileLimitError: more objects, weight bytes or array bytes than the limits allow.
    """
    try:
        return _Reader(memoryview(bytes(data)), source).root()
    except H5FormatError as error:
        if not source:
            raise
        raise H5FormatError(f"{source} is not a readable HDF5 file: {error}") from None
    except ModelFileError:
        raise
    except (struct.error, IndexError, ValueError, UnicodeDecodeError, RecursionError) as error:
        where = f"{source} is not a readable HDF5 file: " if source else ""
        raise H5FormatError(f"{where}truncated or corrupted HDF5 data: {error}") from None


class _Reader:
    def __init__(self, data, source=None):
        self.data = data
        self.source = source
        self.global_heaps = {}
        self.tally = h5_safety.Tally(source)
        # Object header address -> the path it was first reached at (see `_fill_group`).
        self.objects = {}
        # Group B-tree and symbol nodes already read: each is read once, so a crafted tree
        # whose nodes point back at each other cannot loop or fan out.
        self.tree_nodes = set()
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
        self.objects[self.root_address] = "/"
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
            raise H5FormatError(f"groups nest deeper than {MAX_DEPTH} levels at '{group.name}'")
        links = []
        for kind, body in self._messages(address):
            if kind == fmt.MSG_SYMBOL_TABLE:
                btree, heap = struct.unpack_from("<QQ", body)
                links += self._symbol_table(group.name, btree, self._local_heap(heap))
            elif kind == fmt.MSG_LINK:
                links.append(self._link(group.name, body))
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
        self.tally.add_objects(len(links), group.name)
        for name, child_address in links:
            path = group._child_name(name)
            # A hard link back to an ancestor (a cycle) or to an object already read (a DAG).
            if child_address in self.objects:
                raise h5_safety.revisited(self.source, path, self.objects[child_address])
            self.objects[child_address] = path
            messages = self._messages(child_address)
            if any(kind in (fmt.MSG_SYMBOL_TABLE, fmt.MSG_LINK_INFO, fmt.MSG_LINK)
                   for kind, _ in messages):
                child = group._add(name, Group(group._child_name(name)))
                self._fill_group(child, child_address, depth + 1)
            else:
                group._add(name, self._dataset(path, messages))

    def _local_heap(self, address):
        if bytes(self._bytes(address, 4)) != b"HEAP":
            raise H5FormatError(f"no local heap at {address:#x}")
        size, _, data_address = struct.unpack_from("<QQQ", self.data, address + 8)
        return self._bytes(data_address, size)

    def _symbol_table(self, group_name, address, heap, level=None):
        """(name, object address) of every entry under the group B-tree node at `address`."""
        self._visit_tree_node(group_name, address)
        node = self._bytes(address, 24)
        if bytes(node[:4]) != b"TREE" or node[4] != 0:
            raise H5FormatError(f"no group B-tree node at {address:#x}")
        node_level, used = node[5], struct.unpack_from("<H", node, 6)[0]
        if level is not None and node_level != level:
            raise H5FormatError(f"group '{group_name}': B-tree node at {address:#x} has level "
                                f"{node_level}, expected {level}")
        links = []
        for i in range(used):
            child = struct.unpack_from("<Q", self.data, address + 24 + 8 + 16 * i)[0]
            if node_level > 0:
                links += self._symbol_table(group_name, child, heap, node_level - 1)
                continue
            self._visit_tree_node(group_name, child)
            snod = self._bytes(child, 8)
            if bytes(snod[:4]) != b"SNOD":
                raise H5FormatError(f"no symbol table node at {child:#x}")
            for j in range(struct.unpack_from("<H", snod, 6)[0]):
                name_offset, object_address, cache_type, _, scratch = \
                    fmt.SYMBOL_ENTRY.unpack_from(self.data, child + 8 + fmt.SYMBOL_ENTRY.size * j)
                name = _c_string(heap, name_offset)
                if cache_type == fmt.CACHE_SOFT_LINK or object_address == fmt.UNDEFINED:
                    # The scratch pad holds the offset of the link's target in the heap.
                    target = _c_string_or(heap, struct.unpack_from("<I", scratch)[0])
                    raise h5_safety.soft_link(self.source, f"{group_name.rstrip('/')}/{name}",
                                              target)
                links.append((name, object_address))
        return links

    def _visit_tree_node(self, group_name, address):
        if address in self.tree_nodes:
            raise H5FormatError(f"group '{group_name}': B-tree node {address:#x} is reached "
                                "twice (a loop in a damaged or crafted file)")
        self.tree_nodes.add(address)

    def _link(self, group_name, body):
        """(name, object address) of a hard link message; raises for any other link."""
        flags = body[1]
        position = 2
        link_type = fmt.LINK_HARD
        if flags & 0x08:
            link_type = body[position]
            position += 1
        position += (8 if flags & 0x04 else 0) + (1 if flags & 0x10 else 0)
        width = 1 << (flags & 0x03)
        length = int.from_bytes(body[position:position + width], "little")
        position += width
        name = bytes(body[position:position + length]).decode("utf-8")
        position += length
        if link_type == fmt.LINK_HARD:
            return name, struct.unpack_from("<Q", body, position)[0]
        path = f"{group_name.rstrip('/')}/{name}"
        size = int.from_bytes(body[position:position + 2], "little")
        value = bytes(body[position + 2:position + 2 + size])
        if link_type == fmt.LINK_SOFT:
            raise h5_safety.soft_link(self.source, path, _text(value))
        if link_type == fmt.LINK_EXTERNAL:
            # A version / flags byte, then the file name and the object path, NUL-terminated.
            filename, _, target = value[1:].partition(b"\0")
            raise h5_safety.external_link(self.source, path, _text(filename),
                                          _text(target.split(b"\0", 1)[0]))
        raise h5_safety.other_link(self.source, path, link_type)

    def _check_no_dense_attributes(self, name, body):
        heap_address = struct.unpack_from("<Q", body, 2 + (2 if body[1] & 1 else 0))[0]
        if heap_address != fmt.UNDEFINED:
            raise H5FormatError(f"'{name}' keeps its attributes in dense storage (a fractal "
                                "heap), which is not supported")

    # -- datasets and attributes --------------------------------------------------------------
    def _dataset(self, name, messages):
        # Refused before anything else is read: data that lives in other files.
        for kind, body in messages:
            if kind == fmt.MSG_EXTERNAL_FILES:
                raise h5_safety.external_storage(self.source, name, self._external_files(body))
            if kind == fmt.MSG_LAYOUT and body[1] == fmt.LAYOUT_VIRTUAL:
                raise h5_safety.virtual_dataset(self.source, name, self._virtual_files(body))
        shape = dtype_info = layout = None
        for kind, body in messages:
            if kind == fmt.MSG_DATASPACE:
                shape = _dataspace(body)
            elif kind == fmt.MSG_DATATYPE:
                dtype_info = fmt.decode_datatype(body)
            elif kind == fmt.MSG_LAYOUT:
                layout = body
            elif kind == fmt.MSG_FILTER_PIPELINE:
                raise H5FormatError(f"dataset '{name}' is compressed or filtered (not supported)")
        if shape is None or dtype_info is None or layout is None:
            raise H5FormatError(f"'{name}' is neither a group nor a dataset webkeras can read")
        # Declared sizes first (this array, then all datasets together), then the bytes.
        array_limits.check_array_size(shape, dtype_info[1], f"HDF5 dataset '{name}'")
        self.tally.add_dataset(name, shape, dtype_info[2])
        raw = self._layout(name, layout)
        return Dataset(name, self._values(name, dtype_info, shape, raw))

    def _external_files(self, body):
        """The file names of an External Data Files message (best effort: refused anyway)."""
        try:
            used, heap_address = struct.unpack_from("<HQ", body, 6)
            heap = self._local_heap(heap_address)
            # Slots after the 16-byte header: name offset in the heap, file offset, size.
            return [_c_string(heap, struct.unpack_from("<Q", body, 16 + 24 * i)[0])
                    for i in range(min(used, 16))]
        except (H5FormatError, struct.error, ValueError, IndexError, UnicodeDecodeError):
            return ["(unreadable name)"]

    def _virtual_files(self, body):
        """The first source file a virtual dataset maps (best effort: refused anyway)."""
        try:
            address, index = struct.unpack_from("<QI", body, 2)
            mapping = self._heap_bytes(address, index)
            # Version (1), number of mappings (8), then the first source file name.
            return [_text(mapping[9:].split(b"\0", 1)[0])]
        except (H5FormatError, struct.error, ValueError, IndexError, UnicodeDecodeError):
            return []

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
        kind = "chunked" if layout == fmt.LAYOUT_CHUNKED else "of an unknown kind"
        raise H5FormatError(f"dataset '{name}' is {kind} (layout class {layout}); webkeras's "
                            "pure-Python HDF5 reads contiguous and compact ones")

    def _values(self, name, dtype_info, shape, raw):
        kind, dtype, size = dtype_info
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
        return bytes(self._heap_bytes(address, index)[:length]).decode("utf-8")

    def _heap_bytes(self, address, index):
        """Object `index` of the global heap collection at `address`."""
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
            return self.global_heaps[address][index]
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
        array_limits.check_array_size(shape, dtype_info[1], f"HDF5 attribute '{name}'")
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


def _c_string_or(heap, offset, default="(unreadable)"):
    try:
        return _c_string(heap, offset)
    except (ValueError, IndexError, UnicodeDecodeError):
        return default


def _text(value):
    return value.decode("utf-8", "replace")
