"""The tab's offline runtime as `make setup` leaves it: the wheels pip built for the tab are
registered in build/pyodide/pyodide-lock.json with their own sha256, and node's Pyodide loads
webkeras by name (PyYAML through its `depends`), opens the WASM kernels and round-trips YAML."""

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYODIDE = ROOT / "build" / "pyodide"

pytestmark = pytest.mark.skipif(not (PYODIDE / "pyodide.mjs").exists() or not shutil.which("node"),
                                reason="build/pyodide or node is missing: run `make setup`")


def test_lock_names_the_wheels_pip_built():
    packages = json.loads((PYODIDE / "pyodide-lock.json").read_text())["packages"]
    assert packages["webkeras"]["depends"] == ["numpy", "pyyaml"]
    for name in ("webkeras", "pyyaml"):
        wheel = PYODIDE / packages[name]["file_name"]
        assert wheel.name.endswith("-py3-none-any.whl")
        assert packages[name]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_node_pyodide_loads_webkeras_with_its_dependencies():
    done = subprocess.run(["node", "scripts/check_pyodide.mjs"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pyodide ok" in done.stdout and "kernels simd" in done.stdout, done.stdout
