"""Small file helpers shared by datasets, saving and the server.

Pure Python, no third-party imports, so it works natively and under Pyodide.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

__all__ = ["webkeras_home", "data_dir", "sha256_file", "atomic_write_bytes"]


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


def sha256_file(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's contents, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk_size)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    Writes a temporary file in the same directory, flushes it, then renames it
    over ``path`` (``os.replace`` is atomic on POSIX and on Windows).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            try:
                os.fsync(f.fileno())
            except OSError:  # some filesystems (e.g. Pyodide's MEMFS) may not support it
                pass
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a data file should be readable like any other
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
