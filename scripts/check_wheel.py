#!/usr/bin/env python3
"""Build webkeras's wheel the standard way and prove it works outside the checkout (.ci/run).

pip builds the wheel, a fresh venv in a temporary folder installs it (with the `server`
extra), and that venv's Python, started outside the checkout, imports every package the
source tree holds, runs `webkeras --help` and fits a tiny model.

    python3 scripts/check_wheel.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_FOLDERS = {"webkeras": "py/webkeras", "webkeras.kernels": "kernels",
                  "webkeras.server": "server"}
IMPORT_ALL = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(f"imported {len(sys.argv) - 1} packages")
"""
TINY_FIT = """
import numpy as np, webkeras as keras
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32"); y = x @ np.array([1., -2., .5, 3.], "float32")
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
history = model.fit(x, y, epochs=20, batch_size=16, verbose=0).history["loss"]
assert history[-1] < history[0] / 10, history
print(f"tiny fit: loss {history[0]:.3f} -> {history[-1]:.4f}")
"""


def source_packages():
    """Every folder with Python files under the three source folders, as a dotted name."""
    for root, folder in SOURCE_FOLDERS.items():
        base = os.path.join(ROOT, folder)
        for path, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if any(f.endswith(".py") for f in files):
                relative = os.path.relpath(path, base)
                yield root if relative == "." else f"{root}.{relative.replace(os.sep, '.')}"


def run(*command, **kwargs):
    shown = ["<script>" if "\n" in part else part for part in command]
    print("+", " ".join(shown[:6]), "..." if len(shown) > 6 else "", flush=True)
    subprocess.run(command, check=True, **kwargs)


def main():
    with tempfile.TemporaryDirectory(prefix="webkeras-wheel-") as temp:
        wheels, venv = os.path.join(temp, "wheels"), os.path.join(temp, "venv")
        run(sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps",
            "-q", "-w", wheels, ROOT)
        (wheel,) = os.listdir(wheels)
        run(sys.executable, "-m", "venv", venv)
        python = os.path.join(venv, "bin", "python")
        run(python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
            os.path.join(wheels, wheel) + "[server]")
        packages = sorted(source_packages())
        # cwd outside the checkout, so nothing is imported from the source tree by accident
        run(python, "-c", IMPORT_ALL, *packages, cwd=temp)
        run(os.path.join(venv, "bin", "webkeras"), "--help", cwd=temp, stdout=subprocess.DEVNULL)
        run(python, "-c", TINY_FIT, cwd=temp)
    print(f"check_wheel: {wheel} installs, imports, runs its CLI and fits outside the checkout")


if __name__ == "__main__":
    main()
