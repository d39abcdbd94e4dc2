"""Record what real Keras 3 prints for the tutorial examples (run with the peers venv).

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_example_outputs.py

Each example in examples/ is run with its import line changed back to `import keras` and
training switched off (argument 0); stdout goes to tests/reference/examples/<name>.txt.
tests/test_examples.py runs the webkeras originals and compares.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "reference" / "examples"
EXAMPLES = ["functional_flatten", "inception_block", "resnet_identity_block", "custom_layers",
            "conv_autoencoder", "mnist_mlp_small", "lenet5"]


def as_real_keras(source):
    return source.replace("import webkeras as keras", "import keras")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, KERAS_BACKEND="jax")
    env.pop("PYTHONPATH", None)
    for name in EXAMPLES:
        source = as_real_keras((ROOT / "examples" / f"{name}.py").read_text())
        result = subprocess.run([sys.executable, "-c", source, "0"], capture_output=True,
                                text=True, env=env, cwd="/", timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"{name} failed under real Keras:\n{result.stderr[-2000:]}")
        (OUT / f"{name}.txt").write_text(result.stdout)
        print(f"{name}: {len(result.stdout.splitlines())} lines")


if __name__ == "__main__":
    main()
