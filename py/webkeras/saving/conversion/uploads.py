"""Checks on uploaded files before any parser sees them.

A file's type comes from its name and must match its first bytes; a zip's entries must stay
inside the archive's folder and unpack to a bounded size (zip bombs); HDF5 datasets must fit
a bounded size too (a gzip-filtered dataset can inflate a thousandfold). Names users send
are reduced to a plain basename before anything is written under them.

Every upload lives in a file under the conversion's work folder, never whole in memory: the
form's parts are copied there in chunks, and zip entries are unpacked there in chunks, each
counted against the unpacked-size limit as it inflates.
"""

import os
import re
import shutil
import zipfile

from webkeras.saving import h5_safety, weights_h5
from webkeras.utils import file_limits
from webkeras.utils.file_errors import ModelFileError, message_for_service

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
UTF8_BOM = b"\xef\xbb\xbf"

# Kinds by name suffix, most specific first.
WEIGHTS, H5, KERAS, ZIP, JSON, SHARD = "weights.h5", "h5", "keras", "zip", "json", "shard"
SUFFIX_KINDS = ((".weights.h5", WEIGHTS), (".h5", H5), (".hdf5", H5), (".keras", KERAS),
                (".zip", ZIP), (".json", JSON), (".bin", SHARD))
MAGIC = {WEIGHTS: HDF5_MAGIC, H5: HDF5_MAGIC, KERAS: ZIP_MAGIC, ZIP: ZIP_MAGIC}
MAGIC_NAMES = {HDF5_MAGIC: "an HDF5 file", ZIP_MAGIC: "a zip archive"}
EXPECTED_FILES = ("a `.keras`, `.h5` or `.weights.h5` model, or a TF.js `model.json` with its "
                  "`.bin` shards (or one `.zip` of them)")

# Anything else becomes "_"; a leading dot is dropped (no hidden files, no "." or "..").
UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._()+-]")
MAX_NAME_CHARS = 120
PLAIN_NAME = re.compile(r"[A-Za-z0-9_()+-][A-Za-z0-9._()+-]{0,119}")
# Archive clutter from macOS / Windows zip tools, skipped.
ZIP_CLUTTER = ("__MACOSX/", ".DS_Store", "Thumbs.db")
READ_CHUNK = 1 << 20
# Bytes read to check a file's kind: magic numbers, or a JSON object's first '{' after
# whitespace.
HEAD_BYTES = 64 * 1024


class UploadError(ValueError):
    """A rejected upload: `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class Upload:
    """One uploaded file (or zip entry) saved at `path`: its sanitized name and kind."""

    def __init__(self, name, path, kind):
        self.name, self.path, self.kind = name, path, kind

    @property
    def size(self):
        return os.path.getsize(self.path)

    def head(self, count=HEAD_BYTES):
        with open(self.path, "rb") as f:
            return f.read(count)

    def read(self):
        """All of its bytes: for JSON text, which is parsed whole anyway."""
        with open(self.path, "rb") as f:
            return f.read()

    def copy_to(self, path):
        shutil.copyfile(self.path, path)
        return path


def save_stream(stream, path, budget=None, too_big=None):
    """Copies `stream` to a new file at `path` in chunks; returns its size.

    Raises `too_big()` (an UploadError) once more than `budget` bytes came."""
    total = 0
    with open(path, "xb") as f:
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if budget is not None and total > budget:
                raise too_big()
            f.write(chunk)
    return total


def safe_name(raw):
    """The last path component of `raw` with unusual characters replaced by `_`."""
    base = str(raw).replace("\\", "/").rsplit("/", 1)[-1]
    base = UNSAFE_NAME_CHARS.sub("_", base).lstrip(".")[-MAX_NAME_CHARS:]
    if not base.strip("_"):
        raise UploadError(f"File name {str(raw)[:80]!r} has no usable characters; rename "
                          "the file (letters, digits, '.', '-', '_').")
    return base


def is_plain_name(name):
    """True for a file name with no folder part and only safe characters."""
    return isinstance(name, str) and PLAIN_NAME.fullmatch(name) is not None


def kind_of(name):
    lower = name.lower()
    for suffix, kind in SUFFIX_KINDS:
        if lower.endswith(suffix):
            return kind
    raise UploadError(f"'{name}' is not a file this converter reads: expected "
                      f"{EXPECTED_FILES}.", status=415)


def check_magic(name, data, kind):
    """Raises unless `data` (a file's first bytes) starts the way files of `kind` do."""
    if not data:
        raise UploadError(f"'{name}' is empty (0 bytes).")
    magic = MAGIC.get(kind)
    if magic is not None and not data.startswith(magic):
        raise UploadError(f"'{name}' is not {MAGIC_NAMES[magic]}, as a `{kind}` file must be: "
                          f"it starts with {data[:8]!r}, expected {magic!r}.")
    if kind == JSON and data.removeprefix(UTF8_BOM).lstrip()[:1] != b"{":
        raise UploadError(f"'{name}' does not hold a JSON object: it starts with "
                          f"{data[:16]!r}, expected '{{'.")


def make_upload(raw_name, path, kind=None):
    """The checked Upload of the file saved at `path`, sent under the name `raw_name`."""
    name = safe_name(raw_name)
    kind = kind or kind_of(name)
    upload = Upload(name, path, kind)
    check_magic(name, upload.head(), kind)
    return upload


def parse_json(upload):
    """The JSON object in `upload`."""
    return parse_json_text(upload.name, upload.read())


def parse_json_text(name, data):
    """The JSON object in `data` (bytes), `name` the file for messages."""
    try:
        value = file_limits.load_json(data.removeprefix(UTF8_BOM), f"'{name}'")
    except ModelFileError as error:
        raise UploadError(message_for_service(error)) from None
    if not isinstance(value, dict):
        raise UploadError(f"'{name}': expected a JSON object, found {type(value).__name__}.")
    return value


# -- zip archives -------------------------------------------------------------------------------
def _check_entry_name(archive, entry):
    parts = entry.replace("\\", "/").split("/")
    if entry.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", entry) or ".." in parts:
        raise UploadError(f"'{archive}' has an entry '{entry[:120]}' that points outside the "
                          "archive's folder (an absolute path or '..'); refusing the archive.")


def open_zip(upload, max_entries, max_bytes):
    """A checked `ZipFile` over `upload`: entry names, count and declared unpacked size."""
    try:
        archive = zipfile.ZipFile(upload.path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as error:
        raise UploadError(f"'{upload.name}' is not a readable zip archive (truncated or "
                          f"corrupted?): {error}") from None
    if len(infos) > max_entries:
        raise UploadError(f"'{upload.name}' has {len(infos)} entries; at most {max_entries} "
                          "are accepted.")
    declared = 0
    for info in infos:
        _check_entry_name(upload.name, info.orig_filename)
        if info.flag_bits & 0x1:
            raise UploadError(f"'{upload.name}': entry '{info.filename}' is encrypted; "
                              "upload an unencrypted archive.")
        declared += info.file_size
    if declared > max_bytes:
        raise UploadError(f"'{upload.name}' unpacks to {declared} bytes, over the {max_bytes}-"
                          "byte limit for unpacked uploads (a zip bomb, or a model too large "
                          "for this server).")
    return archive


def extract_entry(archive, info, upload_name, budget, path):
    """Unpacks one entry to a new file at `path`, counted as it inflates (headers can lie);
    at most `budget` bytes. Returns its size."""
    def too_big():
        return UploadError(f"'{upload_name}': entry '{info.filename}' unpacks to more than "
                           f"the {budget} bytes left of the unpacked-size limit (a zip bomb?).")

    try:
        with archive.open(info) as stream:
            return save_stream(stream, path, budget, too_big)
    except UploadError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as error:
        raise UploadError(f"'{upload_name}': entry '{info.filename}' is unreadable (truncated "
                          f"or corrupted archive): {error}") from None


def unzip(upload, max_entries, max_bytes):
    """The files of a zip upload as Uploads (folders flattened, clutter skipped), unpacked
    into a folder beside it."""
    archive = open_zip(upload, max_entries, max_bytes)
    folder = upload.path + ".entries"
    os.mkdir(folder)
    entries, seen, budget = [], {}, max_bytes
    for number, info in enumerate(archive.infolist()):
        base = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or info.filename.startswith(ZIP_CLUTTER[0]) or base.startswith(".") \
                or base in ZIP_CLUTTER:
            continue
        # Saved by number: the names users send never become paths.
        path = os.path.join(folder, str(number))
        budget -= extract_entry(archive, info, upload.name, budget, path)
        entry = make_upload(info.filename, path)
        if entry.kind == ZIP:
            raise UploadError(f"'{upload.name}' holds another archive '{info.filename}'; put "
                              "the model files in one flat zip.")
        if entry.name in seen:
            raise UploadError(f"'{upload.name}' holds two files named '{entry.name}' "
                              f"('{seen[entry.name]}' and '{info.filename}'); keep one.")
        seen[entry.name] = info.filename
        entries.append(entry)
    return entries


# -- HDF5 ---------------------------------------------------------------------------------------
def inspect_hdf5(file, name, max_bytes):
    """(bytes its datasets hold, its `model_config` attribute parsed or None) of the HDF5
    `file` (a path or a binary file object).

    Opened through the library's `open_h5`, so a file whose datasets or links reach outside
    it (external storage, soft / external links, virtual datasets), or that needs an HDF5
    plugin, is refused here with the dataset named. Raises when the datasets would take more
    than `max_bytes` in memory."""
    import h5py

    source = f"'{name}'"
    try:
        with weights_h5.open_h5(file, h5py, name=source) as f:
            # open_h5 walked the tree already; this second walk (metadata only) sums it.
            total = h5_safety.check_h5_tree(f, source)
            model_config = f.attrs.get("model_config")
    except ModelFileError as error:
        raise UploadError(message_for_service(error)) from None
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
        raise UploadError(f"'{name}' is not a readable HDF5 file (truncated or corrupted?): "
                          f"{error}") from None
    if total > max_bytes:
        raise UploadError(f"'{name}' holds {total} bytes of arrays, over the {max_bytes}-byte "
                          "limit for unpacked uploads (compressed datasets?).")
    if model_config is not None:
        if not isinstance(model_config, (str, bytes)):
            raise UploadError(f"'{name}': attribute `model_config` should hold JSON text; "
                              f"found {type(model_config).__name__}.")
        try:
            model_config = file_limits.load_json(model_config,
                                                 f"'{name}' attribute `model_config`")
        except ModelFileError as error:
            raise UploadError(message_for_service(error)) from None
    return total, model_config
