"""The tab against native webkeras: same model, same inputs, element by element.

`compare(native_outputs, tab_outputs, names, atol)` gives one OutputDiff per output (its worst
element, both values there, the difference); `assert_tab_matches_native` and `webkeras check`
both report from it.
"""

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np
import webkeras
from webkeras.saving import tfjs

from . import DEFAULT_ATOL
from .tab import TabError, tab_inputs

# Batch size and seed of the inputs `webkeras check` makes when it is given none.
RANDOM_BATCH = 4
RANDOM_SEED = 0


def load_native(path):
    """A .keras / .h5 file or a TF.js model.json (or its folder), loaded natively."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".json":
        return tfjs.load_tfjs(path)
    return webkeras.saving.load_model(path, compile=False)


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def random_inputs(model, batch=RANDOM_BATCH, seed=RANDOM_SEED):
    """Seeded inputs of the model's input shapes: floats in [0, 1), integers in {0, 1}."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape)
        if any(d is None for d in shape[1:]):
            raise ValueError(f"Input '{tensor.name}' has shape {shape} with an unknown "
                             "dimension besides the batch: pass the inputs (--inputs x.npy).")
        shape = (batch, *shape[1:])
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 2, size=shape).astype("int32"))
        else:
            arrays.append(rng.random(shape, dtype=np.float32))
    return arrays


def read_inputs(path, model):
    """Inputs from an .npy (one input) or .npz file (arrays named as the model's inputs, or
    in the file's order)."""
    path = Path(path)
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        arrays = [loaded]
    else:
        with loaded:
            names = [t.name for t in model.inputs]
            keys = names if set(names) <= set(loaded.files) else loaded.files
            arrays = [loaded[k] for k in keys]
    if len(arrays) != len(model.inputs):
        raise ValueError(f"{path} holds {len(arrays)} array(s); model '{model.name}' takes "
                         f"{len(model.inputs)} input(s) ({[t.name for t in model.inputs]}).")
    return arrays


@dataclasses.dataclass
class OutputDiff:
    """How far the tab is from native for one output."""

    name: str
    shape: tuple
    atol: float
    max_diff: float = 0.0
    worst_index: tuple = ()
    native_value: float = 0.0
    tab_value: float = 0.0
    over: int = 0
    tab_shape: tuple = None

    @property
    def ok(self):
        return self.tab_shape is None and self.over == 0

    def describe(self):
        if self.tab_shape is not None:
            return (f"output '{self.name}': native shape {self.shape}, tab shape "
                    f"{self.tab_shape}")
        return (f"output '{self.name}' {self.shape}: worst element {list(self.worst_index)}: "
                f"native {self.native_value:.9g}, tab {self.tab_value:.9g}, |diff| "
                f"{self.max_diff:.3g} > atol {self.atol:g} ({self.over} of "
                f"{int(np.prod(self.shape))} elements over)")


def compare(native_outputs, tab_outputs, names, atol=DEFAULT_ATOL):
    """One OutputDiff per output. NaN equals NaN; NaN against a number is an infinite diff."""
    diffs = []
    for name, native, tab in zip(names, as_list(native_outputs), as_list(tab_outputs)):
        native = np.asarray(native, dtype=np.float64)
        tab = np.asarray(tab, dtype=np.float64)
        diff = OutputDiff(name, tuple(native.shape), atol)
        if native.shape != tab.shape:
            diff.tab_shape = tuple(tab.shape)
            diffs.append(diff)
            continue
        both_nan = np.isnan(native) & np.isnan(tab)
        with np.errstate(invalid="ignore"):
            error = np.where(both_nan, 0.0, np.abs(native - tab))
        error = np.where(np.isnan(error), np.inf, error)
        if error.size:
            worst = np.unravel_index(int(np.argmax(error)), error.shape)
            diff.worst_index = tuple(int(i) for i in worst)
            diff.max_diff = float(error[worst])
            diff.native_value = float(native[worst])
            diff.tab_value = float(tab[worst])
            diff.over = int(np.count_nonzero(error > atol))
        diffs.append(diff)
    return diffs


def mismatch_message(diffs, model_name, backend):
    bad = [d for d in diffs if not d.ok]
    lines = [f"The tab ({backend}) does not match native webkeras for model '{model_name}' "
             f"({len(bad)} of {len(diffs)} outputs):"]
    lines += [f"  {d.describe()}" for d in bad]
    return "\n".join(lines)


@dataclasses.dataclass
class Comparison:
    model_name: str
    backend: str
    diffs: list

    @property
    def ok(self):
        return all(d.ok for d in self.diffs)


def output_names(native, loaded):
    """The native model's output names (a Sequential model's is its last layer's), else the
    tab's, else output_<i>."""
    names = getattr(native, "output_names", None)
    if names and len(names) == len(loaded.outputs):
        return list(names)
    if len(loaded.outputs) == 1 and getattr(native, "layers", None):
        return [native.layers[-1].name]
    return loaded.output_names


def tab_copy(model, folder):
    """Saves a native model for the tab to load (a .keras file in `folder`)."""
    path = Path(folder) / f"{model.name}.keras"
    model.save(path)
    return path


def compare_in_tab(tab, model_or_path, inputs, atol=DEFAULT_ATOL, tab_model=None):
    """Predicts `inputs` natively and in `tab`; returns a Comparison.

    model_or_path: a webkeras model or the path of one (.keras, .h5, TF.js folder). The tab
    loads `tab_model` when given (e.g. your TF.js export of the native model), else the same
    file, or a .keras copy of the model object.
    """
    with tempfile.TemporaryDirectory(prefix="webkeras-tab-") as scratch:
        if isinstance(model_or_path, (str, os.PathLike)):
            native = load_native(model_or_path)
            tab_path = tab_model or model_or_path
        else:
            native = model_or_path
            tab_path = tab_model or tab_copy(native, scratch)
        loaded = tab.load_model(tab_path)
    arrays = tab_inputs(inputs)
    native_outputs = native.predict(arrays[0] if len(arrays) == 1 else arrays, verbose=0)
    tab_outputs = loaded.predict(arrays)
    return Comparison(native.name, tab.backend,
                      compare(native_outputs, tab_outputs, output_names(native, loaded), atol))


def assert_tab_matches_native(tab, model_or_path, inputs, atol=DEFAULT_ATOL, tab_model=None):
    """compare_in_tab, raising AssertionError naming each output's worst element (or with
    the tab's own text when it could not load or run the model)."""
    try:
        result = compare_in_tab(tab, model_or_path, inputs, atol, tab_model)
    except TabError as error:
        raise AssertionError(str(error)) from error
    if not result.ok:
        raise AssertionError(mismatch_message(result.diffs, result.model_name, result.backend))
    return result

