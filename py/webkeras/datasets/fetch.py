"""Finds a dataset file and proves it is intact before anyone reads it.

Natively the file lives in `webkeras.utils.file_utils.data_dir()` (`make setup` writes it there).
In the browser (Pyodide in web/worker.js) it comes from `<origin>/datasets/<name>` of the serving
webkeras app, through web/dataset_cache.js, which keeps it in Cache Storage so a reload does not
download it again, and reports download progress to the page.

Every file is checked against a reference hash before it is used: Keras's own pin for files we
cannot build (CIFAR, Reuters), else the `<name>.sha256` sidecar that `make setup` (or the server)
wrote beside it. A missing, truncated or corrupted file is fetched again from a webkeras server
(the page's origin in the browser, `WEBKERAS_DATA_URL` natively) or, without one, raises an error
that says how to get it. A file whose hash does not match is never used.
"""

import hashlib
import os
import sys

from webkeras.utils import file_utils

IN_BROWSER = sys.platform == "emscripten"
SIDECAR_SUFFIX = ".sha256"
DATA_URL_ENV = "WEBKERAS_DATA_URL"

__all__ = ["get_file", "file_hash", "DatasetIntegrityError"]


class DatasetIntegrityError(ValueError):
    """A dataset file's hash does not match its reference (truncated, corrupted or replaced)."""


def get_file(name, file_hash=None, hint=None):
    """Path of dataset file `name`, verified, fetched from a webkeras server when needed.

    Args:
        name: file name inside the data directory, e.g. `"mnist.npz"`.
        file_hash: the expected sha256 (64 hex digits) or md5 (32) when the file is Keras's own
            and cannot be built here; None to check against the `<name>.sha256` sidecar.
        hint: what to tell the user when the file is absent and no server can provide it.

    Returns:
        The local path of the file (in the browser: in Pyodide's in-memory filesystem).
    """
    path = os.path.join(file_utils.data_dir(), name)
    problem = _local_problem(path, file_hash)
    if problem is None:
        return path
    base_url = _server_url()
    if base_url is None:
        raise _local_error(name, path, problem, file_hash, hint)
    if IN_BROWSER:
        _fetch_in_browser(base_url, name, path, file_hash)
    else:
        _fetch_natively(base_url, name, path, file_hash)
    return path


def file_hash(path, algorithm="sha256"):
    """Hex digest of a file, read in 1 MiB blocks."""
    if algorithm == "sha256":
        return file_utils.sha256_file(path)
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _algorithm(expected):
    # Keras pins some files by md5 (32 hex digits) and the rest by sha256, as get_file does.
    return "md5" if len(expected) == 32 else "sha256"


def _read_sidecar(path):
    try:
        with open(path + SIDECAR_SUFFIX, encoding="ascii") as f:
            return f.read().split()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _local_problem(path, pinned):
    """None when `path` matches its reference hash, else what is wrong with it."""
    if not os.path.isfile(path):
        return "is missing"
    expected = pinned or _read_sidecar(path)
    if expected is None:
        return f"has no {SIDECAR_SUFFIX} sidecar to check it against"
    actual = file_hash(path, _algorithm(expected))
    if actual != expected:
        return f"is truncated or corrupted ({_algorithm(expected)} {actual}, expected {expected})"
    return None


def _local_error(name, path, problem, pinned, hint):
    where = f"Dataset file '{name}' in {os.path.dirname(path)} {problem}."
    if pinned:
        # Keras's own file: nothing here can build it, the user has to place it.
        fix = hint or f"Put Keras's '{name}' ({_algorithm(pinned)} {pinned}) at {path}."
    else:
        fix = hint or "Run `make setup` to (re)build the datasets"
        fix += f", or set {DATA_URL_ENV} to a webkeras server (e.g. http://127.0.0.1:8000)."
    error_type = FileNotFoundError if problem == "is missing" else DatasetIntegrityError
    return error_type(f"{where} {fix}")


def _server_url():
    if IN_BROWSER:
        import js

        return str(js.location.origin)
    return os.environ.get(DATA_URL_ENV, "").rstrip("/") or None


def _check(name, url, actual, expected):
    if actual != expected:
        raise DatasetIntegrityError(
            f"Dataset file '{name}' from {url} is corrupted: {_algorithm(expected)} {actual}, "
            f"expected {expected}. Run `make setup` where the server runs to rebuild it."
        )


def _fetch_natively(base_url, name, path, pinned):
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    url = f"{base_url}/datasets/{name}"

    def get(u):
        try:
            with urlopen(u) as response:  # noqa: S310 - the user's own webkeras server
                return response.read()
        except HTTPError as error:
            raise FileNotFoundError(
                f"GET {u} failed: HTTP {error.code}: {error.read()[:300]!r}") from error
        except URLError as error:
            raise FileNotFoundError(
                f"Dataset file '{name}' is not usable locally and {DATA_URL_ENV}={base_url} "
                f"cannot be reached ({error.reason}). Start that server or run `make setup`."
            ) from error

    expected = pinned or get(url + SIDECAR_SUFFIX).decode("ascii").split()[0]
    data = get(url)
    _check(name, url, hashlib.new(_algorithm(expected), data).hexdigest(), expected)
    file_utils.atomic_write_bytes(path, data)
    if not pinned:
        file_utils.atomic_write_bytes(path + SIDECAR_SUFFIX, f"{expected}  {name}\n".encode())


def _fetch_in_browser(base_url, name, path, pinned):
    """Fetch through web/dataset_cache.js (Cache Storage + progress), which writes `path`."""
    import js
    from pyodide.ffi import run_sync

    url = f"{base_url}/datasets/{name}"
    cache = getattr(js, "webkerasDatasets", None)
    if cache is None:
        raise RuntimeError(
            "webkeras datasets in the browser need web/dataset_cache.js (the webkeras worker "
            "installs it as self.webkerasDatasets); run Python through web/worker.js."
        )
    expected = pinned or str(run_sync(cache.text(url + SIDECAR_SUFFIX))).split()[0]
    algorithm = _algorithm(expected)
    # The helper checks sha256 itself when it can (Web Crypto) and then says so.
    result = run_sync(cache.load(url, path, name, expected if algorithm == "sha256" else ""))
    if not result.verified:
        _check(name, url, file_hash(path, algorithm), expected)
    if not pinned:
        file_utils.atomic_write_bytes(path + SIDECAR_SUFFIX, f"{expected}  {name}\n".encode())
