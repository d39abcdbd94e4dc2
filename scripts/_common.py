"""Helpers shared by the build scripts (stdlib only; never imports webkeras)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache")
DOWNLOADS = os.path.join(CACHE, "downloads")


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[{os.path.basename(sys.argv[0])}] {msg}", flush=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str, algo: str = "sha256") -> hashlib._Hash:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h


def sha256_file(path: str) -> str:
    return file_digest(path, "sha256").hexdigest()


def expect_sha256(what: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise BuildError(f"sha256 mismatch for {what}:\n  expected {expected}\n  got      {actual}")


def atomic_write_bytes(path: str, data: bytes) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def pip_download(requirement: str, filename: str, sha256: str, *, pre: bool = False) -> str:
    """Return the path of `filename` in .cache/downloads, fetching it with pip if absent.

    A cached file is trusted only after its sha256 matches; a bad one is deleted and re-fetched.
    """
    os.makedirs(DOWNLOADS, exist_ok=True)
    path = os.path.join(DOWNLOADS, filename)
    if os.path.exists(path):
        if sha256_file(path) == sha256:
            log(f"cached: {filename}")
            return path
        log(f"cached {filename} has the wrong sha256; fetching it again")
        os.unlink(path)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--dest", DOWNLOADS]
    if pre:
        cmd.append("--pre")
    cmd.append(requirement)
    log("running: " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    if not os.path.exists(path):
        raise BuildError(f"pip download {requirement} did not produce {path}")
    expect_sha256(filename, sha256_file(path), sha256)
    return path
