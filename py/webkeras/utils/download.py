"""`keras.utils.get_file`: download a file once into the cache, check its hash, extract it.

Natively the file comes through urllib. Under Pyodide it comes through the page's `fetch`
(web/dataset_cache.js, the path the datasets take), and an origin without a host, such as
`"/models/mlp.keras"`, resolves against the page's origin.
"""

import os
import shutil
import string
import sys
import tarfile
import tempfile
import urllib.parse
import warnings
import zipfile

from webkeras.utils import file_utils
from webkeras.utils.progbar import Progbar

IN_BROWSER = sys.platform == "emscripten"
HASH_ALGORITHMS = ("auto", "sha256", "md5")
HASH_LENGTHS = {"sha256": 64, "md5": 32}
ARCHIVE_FORMATS = ("tar", "zip")
FETCH_FAILURE = "URL fetch failure on {}: {} -- {}"
DOWNLOAD_CHUNK_BYTES = 1 << 16

__all__ = ["FetchError", "cached_file_path", "extract_archive", "get_file", "validate_file"]


class FetchError(Exception):
    """A download failed: an HTTP error status, or no answer from the server.

    Keras raises a plain `Exception` with the same message; this subclass of it can also be
    caught on its own.
    """


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Downloads a file from a URL if it is not already in the cache.

    By default the file at the url `origin` is downloaded to the cache_dir
    `webkeras_home()` (`$WEBKERAS_HOME` or `~/.webkeras`; Keras's `~/.keras`), placed in
    the cache_subdir `datasets`, and given the filename `fname`. Files in `.tar`, `.tar.gz`,
    `.tar.bz2` and `.zip` formats can also be extracted. Passing a hash verifies the file;
    a cached file whose hash does not match is downloaded again.

    In the browser (Pyodide) the cache is the tab's in-memory filesystem, backed by Cache
    Storage for files with a sha256, and `origin` may be a path on the page's server.

    Example:

    ```python
    path = keras.utils.get_file(origin="/models/mnist_mlp.keras")
    model = keras.saving.load_model(path)
    ```

    Args:
        fname: local name of the file; None takes the name from `origin`. With `extract`,
            a name without an extension names the extraction directory.
        origin: URL of the file.
        untar: deprecated in favour of `extract`; the file is a tar archive to extract.
        md5_hash: deprecated in favour of `file_hash`; the file's md5.
        file_hash: the expected hex sha256 or md5 of the file.
        cache_subdir: subdirectory of `cache_dir` for the file; an absolute path is used
            as is.
        hash_algorithm: `"sha256"`, `"md5"` or `"auto"` (from the length of `file_hash`).
        extract: extract the downloaded archive.
        archive_format: `"auto"` (`["tar", "zip"]`), `"tar"`, `"zip"`, a list of them, or
            None.
        cache_dir: where to cache files; defaults to `webkeras_home()`.
        force_download: download again even when the file is cached.

    Returns:
        Path to the downloaded file, or to the extraction directory with `extract`.
    """
    if origin is None:
        raise ValueError(
            'Please specify the "origin" argument (URL of the file to download).'
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    algorithm = _hash_algorithm(file_hash, hash_algorithm)
    if file_hash is not None:
        file_hash = file_hash.lower()
    url = _absolute_url(origin)
    datadir = _cache_dir(cache_dir, cache_subdir)
    named = bool(fname)
    fname = _file_name(fname, origin)
    download_target, extraction_dir = _targets(datadir, fname, named, extract or untar)

    download = force_download or not os.path.exists(download_target)
    if not download and file_hash is not None and not validate_file(
        download_target, file_hash, algorithm
    ):
        print(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{algorithm} file hash does not match the original value of {file_hash} so we "
            "will re-download the data."
        )
        download = True
    if download:
        verified = False
        if IN_BROWSER:
            verified = _fetch_in_browser(url, download_target, fname, file_hash, algorithm,
                                         force_download)
        else:
            _download(url, download_target)
        if file_hash is not None and not verified:
            actual = file_utils.hash_file(download_target, algorithm)
            if actual != file_hash:
                # Never leave a file that is known to be bad where the next call finds it.
                os.remove(download_target)
                raise _corrupted(url, file_hash, algorithm, actual)

    if not (extract or untar):
        return download_target
    if not extract_archive(download_target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn(f"Could not extract archive {download_target}.", stacklevel=2)
    return extraction_dir


def cached_file_path(fname, cache_subdir="datasets", cache_dir=None):
    """Where `get_file(fname, ..., cache_subdir=..., cache_dir=...)` keeps the file, whether
    or not it is there yet: for code that must not download (the applications' weights)."""
    return os.path.join(_cache_dir(cache_dir, cache_subdir), _file_name(fname, None))


def validate_file(fpath, file_hash, algorithm="auto"):
    """Whether the file at `fpath` has the hex `file_hash` (`"sha256"`, `"md5"` or `"auto"`)."""
    algorithm = _hash_algorithm(file_hash, algorithm)
    return file_utils.hash_file(fpath, algorithm) == file_hash.lower()


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (`.tar`, `.tar.gz`, `.tar.bz2`) or zip archive into `path`.

    Members that would land outside `path` (absolute names, `..`, links out) are skipped
    with a warning.

    Returns:
        True if the file was an archive of one of `archive_format` and was extracted.
    """
    for archive_type in _archive_formats(archive_format):
        if archive_type == "tar" and tarfile.is_tarfile(file_path):
            opener, options = tarfile.open, {"filter": _safe_tar_member}
        elif archive_type == "zip" and zipfile.is_zipfile(file_path):
            # zipfile itself drops leading "/" and ".." from member names.
            opener, options = zipfile.ZipFile, {}
        else:
            continue
        with opener(file_path) as archive:
            try:
                archive.extractall(path, **options)
            except BaseException:
                # Never leave a half-extracted directory behind.
                _remove(path)
                raise
        return True
    return False


def _hash_algorithm(file_hash, hash_algorithm):
    """The algorithm `file_hash` is checked with; raises on a hash that cannot be one."""
    if hash_algorithm not in HASH_ALGORITHMS:
        raise ValueError(
            f"hash_algorithm must be one of {', '.join(map(repr, HASH_ALGORITHMS))}. "
            f"Received: hash_algorithm={hash_algorithm!r}"
        )
    if file_hash is None:
        return None
    digits = file_hash if isinstance(file_hash, str) else ""
    # Like Keras, "auto" means sha256 for 64 hex digits and md5 otherwise.
    if hash_algorithm == "auto":
        hash_algorithm = "sha256" if len(digits) == HASH_LENGTHS["sha256"] else "md5"
    expected = HASH_LENGTHS[hash_algorithm]
    if len(digits) != expected or not set(digits) <= set(string.hexdigits):
        raise ValueError(
            f"file_hash must be a {hash_algorithm} hex digest ({expected} hex digits; the "
            f"`sha256sum` or `md5sum` command prints one). Received: file_hash={file_hash!r}"
        )
    return hash_algorithm


def _absolute_url(origin):
    if not isinstance(origin, str) or not origin:
        raise ValueError(f"origin must be a URL string. Received: origin={origin!r}")
    if IN_BROWSER:
        import js

        return urllib.parse.urljoin(str(js.location.origin) + "/", origin)
    if not urllib.parse.urlsplit(origin).scheme:
        raise ValueError(
            "origin must be an absolute URL (http://, https:// or file://); only in the "
            f"browser does a path resolve against the page's origin. Received: origin={origin!r}"
        )
    return origin


def _cache_dir(cache_dir, cache_subdir):
    base = os.path.expanduser(os.fspath(cache_dir)) if cache_dir else file_utils.webkeras_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        # Like Keras: a read-only home still gets a cache, in the temp directory.
        base = os.path.join(tempfile.gettempdir(), ".webkeras")
    datadir = os.path.join(base, os.fspath(cache_subdir))
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _file_name(fname, origin):
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. "
                "Please specify the `fname` argument."
            )
        return fname
    fname = os.fspath(fname)
    if os.sep in fname:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={fname}"
        )
    return fname


def _targets(datadir, fname, named, extract):
    """(download path, extraction directory or None), named as Keras names them."""
    if not extract:
        return os.path.join(datadir, fname), None
    if named and "." in fname:
        stem = fname[: fname.find(".")]
        return os.path.join(datadir, fname), os.path.join(datadir, f"{stem}_extracted")
    return os.path.join(datadir, f"{fname}_archive"), os.path.join(datadir, fname)


def _download(url, target):
    """GET `url` into `target` (atomically: a failed download leaves nothing behind)."""
    # Imported here: urllib.request pulls in http, email and ssl, a second of start-up in the
    # tab, which never downloads through it.
    import urllib.error
    import urllib.request

    print(f"Downloading data from {url}")
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.",
                                   suffix=".part", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url) as response:
            # A file:// response has no `length`; its Content-Length header says the size.
            size = response.headers.get("Content-Length")
            progbar = Progbar(int(size) if size and size.isdigit() else None)
            done = 0
            while block := response.read(DOWNLOAD_CHUNK_BYTES):
                out.write(block)
                done += len(block)
                progbar.update(done)
            if progbar.target is None:  # without a Content-Length it never ends by itself
                progbar.update(done, finalize=True)
        os.replace(partial, target)
    except urllib.error.HTTPError as error:
        raise FetchError(FETCH_FAILURE.format(url, error.code, error.msg)) from None
    except urllib.error.URLError as error:
        raise FetchError(FETCH_FAILURE.format(url, error.errno, error.reason)) from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _fetch_in_browser(url, target, fname, file_hash, algorithm, force):
    """Download through web/dataset_cache.js; True if it verified the sha256 itself."""
    from pyodide.ffi import JsException

    try:
        return file_utils.fetch_in_browser(
            url, target, fname, file_hash if algorithm == "sha256" else "", force
        )
    except JsException as error:
        if error.name == "IntegrityError":
            raise _corrupted(url, file_hash, algorithm, error.actual) from None
        # An HTTP error carries its status; a network failure (TypeError) has none.
        status = getattr(error, "status", None)
        reason = getattr(error, "statusText", None) or error.message
        raise FetchError(FETCH_FAILURE.format(url, status, reason)) from None


def _corrupted(url, file_hash, algorithm, actual):
    return ValueError(
        f"Incomplete or corrupted file detected. The {algorithm} file hash does not match "
        f"the provided value of {file_hash}. Downloaded from {url}: {algorithm} {actual}."
    )


def _archive_formats(archive_format):
    if archive_format is None:
        return []
    formats = ARCHIVE_FORMATS if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    unknown = [f for f in formats if f not in ARCHIVE_FORMATS]
    if unknown:
        raise ValueError(
            "archive_format must be 'auto', 'tar', 'zip', a list of them, or None. "
            f"Received: archive_format={archive_format!r}"
        )
    return formats


def _safe_tar_member(member, path):
    """tarfile's "data" filter, skipping (with a warning) what it refuses, as Keras does."""
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError as error:
        warnings.warn(
            f"Skipping invalid path during archive extraction: '{member.name}' ({error}).",
            stacklevel=2,
        )
        return None


def _remove(path):
    if os.path.isfile(path):
        os.remove(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
