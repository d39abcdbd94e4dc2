"""The MNIST MLP script reaches >= 0.95 test accuracy in 2 epochs on each backend, natively."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_example(backend_name):
    env = dict(os.environ, WEBKERAS_BACKEND=backend_name)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "mnist_mlp.py"), "2"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("backend_name", ["numpy", "webgpu"])
def test_mnist_mlp_two_epochs(backend_name):
    if backend_name == "webgpu":
        pytest.importorskip("wgpu")
    out = run_example(backend_name)
    assert f"Backend: {backend_name}" in out
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= 0.95, out[-2000:]
