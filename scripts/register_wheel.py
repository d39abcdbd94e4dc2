#!/usr/bin/env python3
"""Register a wheel the tab loads in build/pyodide/pyodide-lock.json (beside the wheel).

The wheels are built by pip (`make wheel`: webkeras with `WEBKERAS_WHEEL=tab`, see setup.py;
PyYAML from its pinned sdist); this writes each one's entry (file, sha256, imports, depends),
so a page can `loadPackage("webkeras")` by name, dependencies included, with integrity checks.

    python scripts/register_wheel.py build/pyodide/webkeras-0.1.0-py3-none-any.whl \\
        --depends numpy,pyyaml
    python scripts/register_wheel.py build/pyodide/pyyaml-6.0.2-py3-none-any.whl \\
        --imports yaml --depends ""
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import atomic_write_bytes, log  # noqa: E402


def lock_entry(wheel_path: str, imports: list[str], depends: list[str]) -> dict:
    name, version = os.path.basename(wheel_path).split("-")[:2]
    with open(wheel_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {
        "name": name,
        "version": version,
        "file_name": os.path.basename(wheel_path),
        "install_dir": "site",
        "sha256": digest,
        "package_type": "package",
        "imports": imports or [name],
        "depends": depends,
        "unvendored_tests": False,
    }


def main(wheel_path: str, imports: list[str], depends: list[str]) -> int:
    lock_path = os.path.join(os.path.dirname(wheel_path), "pyodide-lock.json")
    if not os.path.exists(lock_path):
        log(f"no {lock_path} (run scripts/fetch_pyodide.py first)")
        return 1
    with open(lock_path, encoding="utf-8") as f:
        lock = json.load(f)
    entry = lock_entry(wheel_path, imports, depends)
    if lock["packages"].get(entry["name"]) != entry:
        lock["packages"][entry["name"]] = entry
        atomic_write_bytes(lock_path, json.dumps(lock, indent=None, separators=(",", ":")).encode())
        log(f"registered {entry['file_name']} (sha256 {entry['sha256']}) in {lock_path}")
    return 0


def names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel")
    parser.add_argument("--imports", type=names, default=[],
                        help="comma-separated import names (default: the distribution name)")
    parser.add_argument("--depends", type=names, required=True,
                        help="comma-separated lock names it needs loaded first")
    args = parser.parse_args()
    sys.exit(main(args.wheel, args.imports, args.depends))
