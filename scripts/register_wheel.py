#!/usr/bin/env python3
"""Register the browser's webkeras wheel in build/pyodide/pyodide-lock.json.

The wheel itself is built by pip (`make wheel`: `WEBKERAS_WHEEL=tab pip wheel .`, see
setup.py); this adds its `webkeras` entry (with the wheel's sha256, depending on numpy) to the
lock, so a page can `loadPackage("webkeras")` by name with an integrity check.

    python scripts/register_wheel.py build/pyodide/webkeras-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import atomic_write_bytes, log  # noqa: E402


def lock_entry(wheel_path: str) -> dict:
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
        "imports": [name],
        "depends": ["numpy"],
        "unvendored_tests": False,
    }


def main(wheel_path: str) -> int:
    lock_path = os.path.join(os.path.dirname(wheel_path), "pyodide-lock.json")
    if not os.path.exists(lock_path):
        log(f"no {lock_path} (run scripts/fetch_pyodide.py first)")
        return 1
    with open(lock_path, encoding="utf-8") as f:
        lock = json.load(f)
    entry = lock_entry(wheel_path)
    if lock["packages"].get(entry["name"]) != entry:
        lock["packages"][entry["name"]] = entry
        atomic_write_bytes(lock_path, json.dumps(lock, indent=None, separators=(",", ":")).encode())
        log(f"registered {entry['file_name']} (sha256 {entry['sha256']}) in {lock_path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
