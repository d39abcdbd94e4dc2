"""Outputs of webkeras layers against real Keras 3 (JAX) with the same weights and inputs.

The reference comes from tests/reference/make_layer_reference.py (run with real Keras).
"""

import json
import os

import numpy as np
import pytest
import webkeras as keras

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "reference", "layer_reference.npz")
DATA = np.load(REFERENCE)
SPECS = json.loads(str(DATA["__specs__"]))
RTOL = 1e-5


def _build(spec):
    kwargs = dict(spec["kwargs"])
    if "layer" in kwargs:
        inner = kwargs["layer"]
        kwargs["layer"] = getattr(keras.layers, inner["class_name"])(**inner["config"])
    return getattr(keras.layers, spec["class_name"])(**kwargs)


def _arrays(name, kind):
    out, i = [], 0
    while f"{name}/{kind}{i}" in DATA:
        out.append(DATA[f"{name}/{kind}{i}"])
        i += 1
    return out


def relative_error(got, want):
    """Max |got - want| over the scale of the reference output."""
    scale = max(float(np.max(np.abs(want))), 1e-6) if want.size else 1.0
    return float(np.max(np.abs(got - want))) / scale if want.size else 0.0


def run_case(name):
    spec = SPECS[name]
    inputs = _arrays(name, "input")
    call_kwargs = dict(spec["call_kwargs"])
    for key in spec["array_call_kwargs"]:
        call_kwargs[key] = DATA[f"{name}/call_{key}"]
    args = inputs if spec["inputs_as_args"] else [inputs if len(inputs) > 1 else inputs[0]]
    layer = _build(spec)
    layer(*args, **call_kwargs)
    layer.set_weights(_arrays(name, "weight"))
    outputs = layer(*args, **call_kwargs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    wants = _arrays(name, "output")
    assert len(outputs) == len(wants)
    return max(relative_error(np.asarray(o.numpy(), "float64"), w.astype("float64"))
               for o, w in zip(outputs, wants))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_matches_keras(name):
    error = run_case(name)
    assert error <= RTOL, f"{name}: relative error {error:.2e} > {RTOL}"


if __name__ == "__main__":
    errors = {name: run_case(name) for name in sorted(SPECS)}
    worst = max(errors, key=errors.get)
    print(f"{len(errors)} cases; max relative error {errors[worst]:.3e} ({worst})")
