"""Helpers of `Layer.__call__`: placeholders for shape inference, masks spread over outputs,
shapes read from configs, call signatures."""

import inspect

import numpy as np

from webkeras import ops
from webkeras.layers.keras_tensor import KerasTensor
from webkeras.ops.tensor import Tensor
from webkeras.utils import tree


def shape_tuples(shape):
    """A shape read from JSON (lists) as the tuples `build` gets at a first call."""
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    if isinstance(shape, dict):
        return {k: shape_tuples(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        return [shape_tuples(s) for s in shape]
    return shape


def placeholder_input(x):
    """Zeros standing for a KerasTensor in shape inference (batch 2 when unknown)."""
    shape = tuple(2 if d is None else d for d in x.shape)
    return ops.convert_to_tensor(np.zeros(shape, dtype=x.dtype))


def placeholder_mask(mask):
    """An all-True mask standing for a symbolic one (masked steps would divide by zero)."""
    if not isinstance(mask, KerasTensor):
        return mask
    return ops.convert_to_tensor(np.ones(tuple(2 if d is None else d for d in mask.shape), bool))


def broadcast_mask(mask, outputs):
    flat = tree.flatten(outputs)
    if isinstance(mask, (list, tuple)):
        masks = list(mask)
        return masks + [None] * (len(flat) - len(masks))
    return [mask] + [None] * (len(flat) - 1)


PARAMS = {}
def call_params(fn):
    """Names of `fn`'s parameters ('**' when it takes **kwargs), cached per function."""
    if fn not in PARAMS:
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            params = []
        names = {p.name for p in params}
        if any(p.kind == p.VAR_KEYWORD for p in params):
            names.add("**")
        PARAMS[fn] = frozenset(names)
    return PARAMS[fn]


def first_param(fn):
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):
        return "inputs"
    return names[1] if len(names) > 1 else "inputs"


def unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def to_tensor(x):
    if isinstance(x, Tensor):
        return x
    x = np.asarray(x)
    return ops.convert_to_tensor(x.astype(np.float32) if x.dtype == np.float64 else x)
