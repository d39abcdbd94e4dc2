"""Helpers shared by the interop tests: reference inputs/outputs and prediction errors."""

import numpy as np


def read_reference(path):
    """(inputs x0, x1..., outputs y0, y1...) of a reference `.npz` file, in index order."""
    with np.load(path) as arrays:
        keys = sorted(arrays.files, key=lambda k: (k[0], int(k[1:])))
        return ([arrays[k] for k in keys if k.startswith("x")],
                [arrays[k] for k in keys if k.startswith("y")])


def predict(model, xs):
    """`model.predict` on the inputs `xs`, always as a list of arrays."""
    outputs = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    return [np.asarray(y) for y in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def max_error(got, expected):
    assert [g.shape for g in got] == [e.shape for e in expected]
    return max(float(np.abs(g - e).max()) for g, e in zip(got, expected))


def reference_error(model, path):
    """Max |model's prediction - stored prediction| on a reference `.npz` file's inputs."""
    xs, ys = read_reference(path)
    return max_error(predict(model, xs), ys)
