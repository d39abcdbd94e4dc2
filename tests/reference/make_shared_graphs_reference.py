"""Writes the shared-layer reference files with real Keras 3 (run once, commit the output).

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_shared_graphs_reference.py

For each model of shared_graphs.py: `<name>.keras` (its config holds the node indices real
Keras writes for layers shared with the other models) and `<name>.npz` with a fixed input
`x0`, `x1`... and real Keras's prediction(s) `y0`, `y1`...
"""

import os
import sys

import keras
import numpy as np
from shared_graphs import NAMES, build_all  # beside this script

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared_graphs")


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    models = build_all(keras)
    for name in NAMES:
        model = models[name]
        xs = [rng.standard_normal((3,) + tuple(t.shape[1:])).astype("float32")
              for t in model.inputs]
        preds = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        preds = preds if isinstance(preds, (list, tuple)) else [preds]
        model.save(os.path.join(OUT, f"{name}.keras"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": np.asarray(p) for i, p in enumerate(preds)})
        np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
        print(name, "ok", file=sys.stderr)


if __name__ == "__main__":
    main()
