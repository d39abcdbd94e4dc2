"""Small file helpers shared by datasets, saving and the server.

Pure Python, no third-party imports, so it works natively and under Pyodide.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid

from webkeras.utils.file_errors import UnsafeContentError

__all__ = ["atomic_write", "atomic_write_bytes", "data_dir", "fetch_in_browser", "hash_file",
           "path_inside", "sha256_file", "webkeras_home"]


def webkeras_home() -> str:
    """The webkeras home directory: ``$WEBKERAS_HOME`` or ``~/.webkeras``.

    Not created here; callers that write below it create what they need.
    """
    home = os.environ.get("WEBKERAS_HOME")
    if not home:
        home = os.path.join(os.path.expanduser("~"), ".webkeras")
    return os.path.abspath(home)


def data_dir() -> str:
    """``<webkeras_home()>/datasets``, created on demand."""
    path = os.path.join(webkeras_home(), "datasets")
    os.makedirs(path, exist_ok=True)
    return path


def hash_file(path: str, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Hex digest (`hashlib` algorithm name) of a file's contents, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk_size)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def sha256_file(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's contents, read in chunks."""
    return hash_file(path, "sha256", chunk_size)


TEMP_PREFIX = ".tmp-"


def atomic_write(path, writer):
    """Call ``writer(tmp_path)``, then rename the temporary file over ``path``: readers see the
    old file or the whole new one, and a failed write leaves nothing behind.

    The temporary file sits in the same directory (so ``os.replace`` is atomic) and ends with
    the same name (savers pick the format by the suffix); it is flushed to disk before the
    rename, so a crash right after leaves a whole file. Its name holds the writer's process
    id: temporary files of writers that were killed (kill -9, power loss) are removed by the
    next write to the same path. Returns ``path``.
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    _remove_orphans(directory, name)
    tmp = os.path.join(directory, f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}-{name}")
    try:
        writer(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync(directory)
    return path


def _fsync(path):
    """Flushes a file's (or a directory's entries') data to disk, where the OS allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems (e.g. Pyodide's MEMFS) do not support it
        pass
    finally:
        os.close(fd)


def _remove_orphans(directory, name):
    """Removes `directory`'s temporary files for `name` whose writer process is gone."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(TEMP_PREFIX) and entry.endswith("-" + name)):
            continue
        pid = entry[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, entry))


def _alive(pid):
    if pid == os.getpid() or not hasattr(os, "kill"):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or the platform cannot tell: keep the file
    return True


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see `atomic_write`), flushed to disk first."""

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    atomic_write(path, write)


def fetch_in_browser(url: str, path: str, name: str, sha256: str = "", force: bool = False) -> bool:
    """Download `url` into Pyodide's filesystem at `path` through web/dataset_cache.js.

    The helper keeps files in Cache Storage across page loads and reports progress to the page
    under `name`. Call only under Pyodide, from Python entered with `runPythonAsync`.

    Args:
        sha256: the expected hex sha256, or "" when there is none (or it is another algorithm).
        force: download even when Cache Storage holds the file.

    Returns:
        Whether the helper checked `sha256` itself (Web Crypto); if not, the caller must.

    Raises:
        pyodide.ffi.JsException: the download failed (`status` holds the HTTP status, if any)
            or the file does not match `sha256` (`name == "IntegrityError"`).
    """
    import js
    from pyodide.ffi import run_sync

    cache = getattr(js, "webkerasDatasets", None)
    if cache is None:
        raise RuntimeError(
            "Downloading files in the browser needs web/dataset_cache.js (the webkeras worker "
            "installs it as self.webkerasDatasets); run Python through web/worker.js."
        )
    return bool(run_sync(cache.load(url, path, name, sha256, force)).verified)


def path_inside(directory: str, relative: str, what: str) -> str:
    """`directory`/`relative`, refused unless it stays inside `directory`.

    The one rule for every path a file names beside itself (TF.js weight shards): relative,
    no `..`, no URL or drive, and no symbolic link leading out. `what` names the file and
    field for the message, e.g. "'model.json' `weightsManifest[0].paths`".

    Raises:
        UnsafeContentError: the path would reach outside `directory`.
    """
    text = relative if isinstance(relative, str) else ""
    parts = text.replace("\\", "/").split("/")
    reason = None
    if not text or "\0" in text:
        reason = "an empty or non-text path"
    elif text.startswith(("/", "\\")) or os.path.isabs(text) or ":" in parts[0]:
        reason = "an absolute path, drive or URL"
    elif ".." in parts:
        reason = "a '..' component"
    else:
        base = os.path.realpath(directory)
        full = os.path.realpath(os.path.join(base, *parts))
        if os.path.commonpath([base, full]) != base:
            reason = "a symbolic link that leads outside the folder"
    if reason:
        raise UnsafeContentError(
            f"{what} names {str(relative)[:200]!r}: {reason}. A model reads only files in its "
            "own folder; expected a relative path such as 'group1-shard1of1.bin'.")
    return os.path.join(directory, *parts)
