"""Finds a dataset file: the local cache natively, the serving Flask app in the browser.

In the browser (Pyodide in a worker) the file comes from `<origin>/datasets/<name>` through a
synchronous-looking `fetch` (JSPI `run_sync`), checked against its `.sha256` sidecar, and kept in
the in-memory filesystem for the rest of the session.
"""

import hashlib
import os
import sys

from webkeras.utils import file_utils

IN_BROWSER = sys.platform == "emscripten"


def get_file(name):
    """Path of dataset file `name`, fetching it from the server when it is not cached."""
    path = os.path.join(file_utils.data_dir(), name)
    if os.path.exists(path) and _hash_ok(path):
        return path
    base_url = _server_url()
    if base_url is None:
        raise FileNotFoundError(
            f"Dataset file '{name}' was not found in {file_utils.data_dir()}. "
            "Run `make setup` to fetch the datasets, or set WEBKERAS_DATA_URL to a webkeras "
            "server (e.g. http://127.0.0.1:8000)."
        )
    data = _download(f"{base_url}/datasets/{name}")
    expected = _download(f"{base_url}/datasets/{name}.sha256").decode().split()[0]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(
            f"Dataset file '{name}' from {base_url} is corrupted: sha256 {actual}, "
            f"expected {expected}."
        )
    file_utils.atomic_write_bytes(path, data)
    return path


def _hash_ok(path):
    sidecar = path + ".sha256"
    if not os.path.exists(sidecar):
        return True
    with open(sidecar) as f:
        return file_utils.sha256_file(path) == f.read().split()[0]


def _server_url():
    if IN_BROWSER:
        import js

        return str(js.location.origin)
    return os.environ.get("WEBKERAS_DATA_URL", "").rstrip("/") or None


def _download(url):
    if IN_BROWSER:
        import js
        from pyodide.ffi import run_sync

        response = run_sync(js.fetch(url))
        if not response.ok:
            raise FileNotFoundError(f"GET {url} failed: HTTP {response.status}")
        return bytes(run_sync(response.arrayBuffer()).to_py())
    from urllib.request import urlopen

    with urlopen(url) as response:  # noqa: S310 - the user's own webkeras server
        return response.read()
