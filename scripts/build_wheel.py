#!/usr/bin/env python3
"""Build the pure-Python wheel the browser loads: build/pyodide/webkeras-<version>-py3-none-any.whl.

Deterministic (sorted entries, fixed timestamps and modes; same sources -> same bytes), no
network, stdlib only. Contents:
    py/webkeras/**                    -> webkeras/
    kernels/**/*.py, kernels/**/*.wgsl -> webkeras/kernels/
    build/wasm/*.wasm{,.sha256}       -> webkeras/kernels/wasm/ (the SIMD kernels `make wasm` built)
    webkeras-<v>.dist-info/{METADATA,WHEEL,top_level.txt,RECORD}
The Flask server (server/) is not included: it never runs in the tab.

Then adds a `webkeras` entry (with the wheel's sha256, depending on numpy) to
build/pyodide/pyodide-lock.json, so a page can `loadPackage("webkeras")` by name with an
integrity check, or `loadPackage(<url of the wheel>)` directly.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tomllib
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, atomic_write_bytes, log  # noqa: E402

OUT_DIR = os.path.join(ROOT, "build", "pyodide")
WASM_DIR = os.path.join(ROOT, "build", "wasm")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
# 1980-01-01 is the earliest zip timestamp; SOURCE_DATE_EPOCH is deliberately ignored so the
# bytes depend on the sources only.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def walk(base: str, suffixes: tuple[str, ...] | None):
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith(".") or fn.endswith((".pyc", ".pyo", "~")):
                continue
            if suffixes is not None and not fn.endswith(suffixes):
                continue
            full = os.path.join(dirpath, fn)
            yield full, os.path.relpath(full, base).replace(os.sep, "/")


def collect() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    pkg = os.path.join(ROOT, "py", "webkeras")
    for full, rel in walk(pkg, None):
        files["webkeras/" + rel] = open(full, "rb").read()
    if any(name.startswith("webkeras/kernels/") for name in files):
        sys.exit("build_wheel: py/webkeras/kernels/ clashes with kernels/ (mapped to webkeras.kernels)")
    for full, rel in walk(os.path.join(ROOT, "kernels"), (".py", ".wgsl")):
        files["webkeras/kernels/" + rel] = open(full, "rb").read()
    # Built artefacts, not sources: the WASM SIMD side module and its sha256, checked on load.
    wasm = list(walk(WASM_DIR, (".wasm", ".wasm.sha256"))) if os.path.isdir(WASM_DIR) else []
    if not wasm:
        log("no build/wasm/*.wasm (run `make wasm`): the wheel's NumPy backend will lack its "
            "SIMD kernels in the tab")
    for full, rel in wasm:
        files["webkeras/kernels/wasm/" + rel] = open(full, "rb").read()
    # Regular packages in the wheel even while a source dir still lacks its __init__.py.
    for init in ("webkeras/__init__.py", "webkeras/kernels/__init__.py"):
        files.setdefault(init, b"")
    return files


def metadata(project: dict) -> bytes:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    for dep in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {dep}")
    return ("\n".join(lines) + "\n").encode()


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build(project: dict) -> tuple[str, bytes]:
    name, version = project["name"], project["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = collect()
    files[f"{dist_info}/METADATA"] = metadata(project)
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\n"
        "Generator: webkeras scripts/build_wheel.py\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n").encode()
    files[f"{dist_info}/top_level.txt"] = f"{name}\n".encode()
    record_name = f"{dist_info}/RECORD"
    # package files first, then dist-info; RECORD goes last
    ordered = sorted(files, key=lambda n: (n.startswith(dist_info + "/"), n))
    record = "".join(f"{n},{record_hash(files[n])},{len(files[n])}\n" for n in ordered)
    record += f"{record_name},,\n"
    ordered.append(record_name)
    files[record_name] = record.encode()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in ordered:
            zi = zipfile.ZipInfo(n, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = (0o100644 & 0xFFFF) << 16
            zi.create_system = 3  # unix, so the mode above is honoured
            zf.writestr(zi, files[n], compresslevel=9)
    return f"{name}-{version}-py3-none-any.whl", buf.getvalue()


def add_to_pyodide_lock(project: dict, wheel_name: str, data: bytes) -> None:
    path = os.path.join(OUT_DIR, "pyodide-lock.json")
    if not os.path.exists(path):
        log("no build/pyodide/pyodide-lock.json (run scripts/fetch_pyodide.py first); not adding webkeras to it")
        return
    with open(path, encoding="utf-8") as f:
        lock = json.load(f)
    entry = {
        "name": project["name"],
        "version": project["version"],
        "file_name": wheel_name,
        "install_dir": "site",
        "sha256": hashlib.sha256(data).hexdigest(),
        "package_type": "package",
        "imports": [project["name"]],
        "depends": ["numpy"],
        "unvendored_tests": False,
    }
    if lock["packages"].get(project["name"]) == entry:
        return
    lock["packages"][project["name"]] = entry
    atomic_write_bytes(path, json.dumps(lock, indent=None, separators=(",", ":")).encode())
    log(f"added {project['name']} {project['version']} to build/pyodide/pyodide-lock.json")


def main() -> int:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    wheel_name, data = build(project)
    path = os.path.join(OUT_DIR, wheel_name)
    if os.path.exists(path) and open(path, "rb").read() == data:
        log(f"up to date: build/pyodide/{wheel_name}")
    else:
        atomic_write_bytes(path, data)
        log(f"wrote build/pyodide/{wheel_name} ({len(data):,} B, sha256 {hashlib.sha256(data).hexdigest()})")
    add_to_pyodide_lock(project, wheel_name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
