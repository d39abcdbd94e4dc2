"""One rule for every HDF5 file webkeras opens: it reads data inside the file, nothing else.

Refused when the file is opened, before any dataset's data is read, both by h5py
(`check_h5_tree`, called by `weights_h5.open_h5`) and by the pure-Python reader (`h5_read`,
which raises the same errors from here while it parses):

- external storage (a dataset whose bytes live in another file, e.g. `/etc/passwd`),
- external links and soft links (the name leads somewhere else, or to another file),
- virtual datasets (their values are mapped from other files),
- an object reached twice (a hard-link cycle or DAG: Keras never writes one, and a DAG of
  two links per level makes a walk take 2**depth steps),
- filters h5py does not build in (HDF5 would load a plugin library to decode them).

The objects and the declared bytes of all datasets (shape x itemsize) are counted against
`file_limits` ("hdf5_objects", "weight_bytes") as the walk goes.
"""

import math

from webkeras.utils import file_limits
from webkeras.utils.file_errors import RAW_ERRORS, ModelFileError, UnsafeContentError

OUTSIDE_FILE = "webkeras reads only data inside the file"
RESAVE = ("If you trust the file, re-save the model with Keras (`model.save(...)`), which "
          "stores every weight inside the file.")
# Filters decoded by HDF5 or h5py themselves; any other id makes HDF5 look for a plugin
# library on this machine (HDF5_PLUGIN_PATH) and load it. nbit (5) is built into HDF5 too.
BUILTIN_FILTERS = {1: "gzip", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit",
                   6: "scaleoffset", 32000: "lzf"}


def _where(source):
    return f"{source}: " if source else ""


def external_storage(source, path, files):
    """The error for dataset `path` keeping its raw data in `files` (external file names)."""
    return UnsafeContentError(
        f"{_where(source)}dataset '{path}' keeps its data in external file(s) {files} "
        "(HDF5 external storage). HDF5 external storage would read another file on this "
        f"machine; {OUTSIDE_FILE}. {RESAVE}")


def virtual_dataset(source, path, files):
    """The error for dataset `path` being a virtual dataset mapping data from `files`."""
    mapped = f" from {files}" if files else ""
    return UnsafeContentError(
        f"{_where(source)}dataset '{path}' is an HDF5 virtual dataset (its values are mapped"
        f"{mapped}). A virtual dataset would read other files on this machine; "
        f"{OUTSIDE_FILE}. {RESAVE}")


def soft_link(source, path, target):
    return UnsafeContentError(
        f"{_where(source)}'{path}' is an HDF5 soft link to '{target}'. A soft link makes a "
        "name read another object (or loop back to itself), and Keras never writes one; "
        f"webkeras reads each weight at its own name, and {OUTSIDE_FILE}. {RESAVE}")


def external_link(source, path, filename, target):
    return UnsafeContentError(
        f"{_where(source)}'{path}' is an HDF5 external link to '{target}' in file "
        f"'{filename}'. Following it would read another file on this machine; "
        f"{OUTSIDE_FILE}. {RESAVE}")


def other_link(source, path, link_type):
    return UnsafeContentError(
        f"{_where(source)}'{path}' is an HDF5 link of type {link_type} (user-defined); "
        f"only plain (hard) links are followed, as {OUTSIDE_FILE}. {RESAVE}")


def revisited(source, path, first):
    inside = (path + "/").startswith(first.rstrip("/") + "/")
    kind = "a cycle: a group that contains itself" if inside else "a second link to one object"
    return UnsafeContentError(
        f"{_where(source)}'{path}' is the same HDF5 object as '{first}' (a hard link making "
        f"{kind}). Keras writes every object once; a file that reaches one object twice can "
        f"make a reader loop or take exponential time, so it is refused. {RESAVE}")


def unknown_filter(source, path, code, name):
    label = f" ({name})" if name else ""
    return UnsafeContentError(
        f"{_where(source)}dataset '{path}' is encoded with HDF5 filter {code}{label}, which "
        "h5py does not build in: HDF5 would load a plugin library from this machine to "
        f"decode it. Expected one of {sorted(BUILTIN_FILTERS.values())}, or none. {RESAVE}")


class Tally:
    """The objects and declared dataset bytes of one file, checked as they grow."""

    def __init__(self, source):
        self.source = source or "the HDF5 data"
        self.objects = 0
        self.weight_bytes = 0
        self.max_objects = file_limits.get("hdf5_objects")
        self.max_weight_bytes = file_limits.get("weight_bytes")

    def add_objects(self, count, path):
        self.objects += count
        if self.objects > self.max_objects:
            file_limits.check("hdf5_objects", self.objects, f"{self.source} (at '{path}')")

    def add_dataset(self, path, shape, itemsize):
        if shape is None:
            # A null dataspace (h5py.Empty) holds nothing.
            return
        # Python ints: a crafted shape of (2**63, 2**63) cannot overflow the sum.
        self.weight_bytes += math.prod(int(d) for d in shape) * int(itemsize)
        if self.weight_bytes > self.max_weight_bytes:
            file_limits.check("weight_bytes", self.weight_bytes,
                              f"{self.source} (up to dataset '{path}' of shape {tuple(shape)})")


def check_h5_tree(h5file, source):
    """Raises unless every object of an open h5py File is plain data inside the file.

    Walks every link, following hard links only, and opens objects only to read their
    metadata, never their data. (h5py's `visititems` visits each object once and never
    reports a soft or external link, or a second link to an object, so it cannot check this.)

    Args:
        h5file: an open `h5py.File` (or Group).
        source: the file, for messages, e.g. "'model.keras' member 'model.weights.h5'".

    Returns:
        The declared bytes of all datasets together.

    Raises:
        UnsafeContentError: external storage, a soft / external link, a virtual dataset,
            an object reached twice, a filter h5py does not build in.
        FileLimitError: over the "hdf5_objects" or "weight_bytes" limit.
    """
    import h5py

    try:
        return _walk(h5py, h5file, source)
    except ModelFileError:
        raise
    except (*RAW_ERRORS, RuntimeError) as error:
        # h5py raises KeyError / RuntimeError / OSError for damaged objects inside a file.
        raise damaged(error, source) from None


def _walk(h5py, h5file, source):
    tally = Tally(source)
    seen = {_object_key(h5py, h5file): h5file.name}
    stack = [h5file]
    while stack:
        group = stack.pop()
        # Counted before listing, so a group of a billion links is refused unlisted.
        tally.add_objects(len(group), group.name)
        for name in group:
            path = f"{group.name.rstrip('/')}/{name}"
            obj = _follow_hard_link(h5py, group, name, path, source)
            key = _object_key(h5py, obj)
            if key in seen:
                raise revisited(source, path, seen[key])
            seen[key] = path
            if isinstance(obj, h5py.Group):
                stack.append(obj)
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(obj, path, source, tally)
    return tally.weight_bytes


def _follow_hard_link(h5py, group, name, path, source):
    """The object `group[name]` names, when it is a hard link; raises for any other link."""
    try:
        link = group.get(name, getlink=True)
    except TypeError:
        # h5py raises TypeError for user-defined link types it does not know.
        raise other_link(source, path, "unknown") from None
    if isinstance(link, h5py.SoftLink):
        raise soft_link(source, path, link.path)
    if isinstance(link, h5py.ExternalLink):
        raise external_link(source, path, link.filename, link.path)
    if not isinstance(link, h5py.HardLink):
        raise other_link(source, path, type(link).__name__)
    return group[name]


def _object_key(h5py, obj):
    info = h5py.h5o.get_info(obj.id)
    return info.fileno, info.addr


def _check_dataset(dataset, path, source, tally):
    external = dataset.external
    if external:
        raise external_storage(source, path, [_text(entry[0]) for entry in external])
    if dataset.is_virtual:
        raise virtual_dataset(source, path,
                              sorted({_text(m.file_name) for m in dataset.virtual_sources()}))
    plist = dataset.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code, _, _, name = plist.get_filter(i)
        if code not in BUILTIN_FILTERS:
            raise unknown_filter(source, path, code, _text(name))
    tally.add_dataset(path, dataset.shape, dataset.dtype.itemsize)


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def damaged(error, source):
    """The ModelFileError for an HDF5 file h5py or the pure reader could not parse."""
    return ModelFileError(f"{source} is not a readable HDF5 file (truncated or corrupted?): "
                          f"{error}")
