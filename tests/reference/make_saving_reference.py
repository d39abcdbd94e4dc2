"""Writes the saving interop reference files with real Keras 3 (run once, commit the output).

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_saving_reference.py

For each model: `<name>.keras`, `<name>.weights.h5`, legacy `<name>.h5`, and
`<name>.npz` holding the fixed input(s) `x0`, `x1`... and real Keras's prediction(s)
`y0`, `y1`... (inference mode). Models are compiled and trained one step, so the files
carry optimizer state and a compile config.
"""

import os
import sys
import warnings

import keras
import numpy as np
from architectures import MODELS

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "saving")


def _data(model, rng):
    xs = []
    for inp in model.inputs:
        shape = (3,) + tuple(inp.shape[1:])
        if "int" in inp.dtype:
            xs.append(rng.integers(0, 20, size=shape).astype("int32"))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    ys = []
    for out in model.outputs:
        ys.append(rng.standard_normal((3,) + tuple(out.shape[1:])).astype("float32"))
    return xs, ys



def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for name, make in MODELS.items():
        model = make(keras)
        xs, ys = _data(model, rng)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        model.fit(xs if len(xs) > 1 else xs[0], ys if len(ys) > 1 else ys[0], epochs=1,
                  batch_size=3, verbose=0)
        preds = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        preds = preds if isinstance(preds, list) else [preds]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(os.path.join(OUT, f"{name}.h5"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": np.asarray(p) for i, p in enumerate(preds)})
        np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
        print(name, "ok", file=sys.stderr)


if __name__ == "__main__":
    main()
