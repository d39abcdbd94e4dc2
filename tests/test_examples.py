"""The tutorial examples run unchanged but for the import line and print what real Keras 3
prints (summaries, shapes, param counts). The expected text comes from real Keras:
tests/reference/make_example_outputs.py."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "reference" / "examples"


@pytest.mark.parametrize("name", sorted(p.stem for p in EXPECTED.glob("*.txt")))
def test_example_prints_what_real_keras_prints(name):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "0"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = (EXPECTED / f"{name}.txt").read_text().splitlines()
    assert result.stdout.splitlines() == expected
