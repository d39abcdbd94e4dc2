"""Checks of the training API's arguments, made once before the first step.

`fit`, `evaluate`, `predict` and the `*_on_batch` methods refuse nonsense up front, on the
host arrays they were given, never per step and never by reading a tensor back from the
device: counts that are not positive integers, data without samples, complex numbers,
NaN/Inf weights, class weights that miss a class of the data, and sparse labels outside
`[0, classes)` (which would otherwise give a loss of 0.0, or NaN, without a word).
"""

import numbers

import numpy as np

from webkeras.trainers.compile_utils import (CompileMetrics, flatten_targets, output_names_for,
                                             per_output)
from webkeras.utils import tree


def positive_int(name, value, allow_none=True):
    """`value` as an int, or an error naming the argument (bool is not a count).

    Args:
        name: the argument's name, e.g. "batch_size".
        value: what the caller passed.
        allow_none: whether None (the default) is allowed.
    """
    if value is None and allow_none:
        return None
    expected = "a positive integer" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {expected}. Received: {name}={value!r} "
                        f"(of type {type(value).__name__})")
    if value <= 0:
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r}")
    return int(value)


def reject_complex(array, name):
    """Refuses a complex-valued array: layers compute in real floats."""
    if np.iscomplexobj(array):
        raise ValueError(
            f"Expected `{name}` to hold real numbers, received an array of dtype "
            f"{np.asarray(array).dtype}. Layers compute in real floats: pass the real and "
            f"imaginary parts as separate features, e.g. np.stack([x.real, x.imag], axis=-1)."
        )


def check_finite_weights(weights, name="sample_weight"):
    """Refuses NaN or infinite sample weights (they turn the loss into NaN at once)."""
    for array in tree.flatten(weights):
        values = np.asarray(array)
        reject_complex(values, name)
        if values.dtype == object or not (np.issubdtype(values.dtype, np.number)
                                          or values.dtype == bool):
            raise TypeError(f"`{name}` must hold numbers. Received an array of dtype "
                            f"{values.dtype}.")
        finite = np.isfinite(values)
        if not finite.all():
            raise ValueError(
                f"`{name}` contains {int(finite.size - finite.sum())} NaN or infinite "
                f"value(s) (first: {values[~finite].flat[0]}). Expected finite numbers, "
                "e.g. 0.0 to leave a sample out."
            )


def check_class_weight(class_weight):
    """`class_weight` as `{int class: float weight}`, refusing non-finite weights."""
    if not isinstance(class_weight, dict):
        raise TypeError("Expected `class_weight` to be a dict mapping class indices to "
                        f"weights. Received: class_weight={class_weight!r}")
    checked = {}
    for key, value in class_weight.items():
        try:
            weight = float(value)
            index = int(key)
        except (TypeError, ValueError):
            raise TypeError(
                "`class_weight` must map integer class indices to numbers. Received: "
                f"class_weight[{key!r}]={value!r}") from None
        if not np.isfinite(weight):
            raise ValueError(
                f"`class_weight` must hold finite weights. Received: class_weight[{key!r}]="
                f"{value!r}. Use 0.0 to leave a class out."
            )
        checked[index] = weight
    return checked


def check_has_samples(adapter, name):
    """Refuses data that holds no sample or no batch (fit would train on nothing)."""
    adapter = getattr(adapter, "adapter", adapter)
    samples = getattr(adapter, "num_samples", None)
    if samples == 0:
        shapes = [tuple(np.shape(a)) for a in tree.flatten(adapter.x)]
        raise ValueError(
            f"`{name}` holds 0 samples (shapes {shapes}). Expected at least one sample.")
    if samples is None and adapter.num_batches == 0:
        raise ValueError(f"`{name}` holds 0 batches. Expected at least one batch.")


def check_label_range(model, y, name="y"):
    """Refuses integer labels outside `[0, classes)` for outputs that have a sparse
    categorical loss or metric, when the output's size is known."""
    outputs = _known_outputs(model)
    if outputs is None or y is None:
        return
    names = getattr(model, "output_names", None)
    if not names or len(names) != len(outputs):
        names = output_names_for(model, outputs)
    try:
        targets = flatten_targets(y, names)
        sparse = _sparse_objects_per_output(model, names)
    except (TypeError, ValueError):
        # The step reports mismatched structures with its own error.
        return
    for output, label_name, target, objects in zip(outputs, names, targets, sparse):
        classes = output.shape[-1] if output.shape else None
        if not objects or not isinstance(classes, int) or not isinstance(
                target, (np.ndarray, list)):
            continue
        labels = np.asarray(target)
        if not np.issubdtype(labels.dtype, np.integer):
            continue
        ignored = [c for c in (getattr(o, "ignore_class", None) for o in objects)
                   if c is not None]
        if ignored:
            labels = labels[~np.isin(labels, ignored)]
        if labels.size == 0:
            continue
        low, high = int(labels.min()), int(labels.max())
        if low >= 0 and high < classes:
            continue
        outside = int(np.count_nonzero((labels < 0) | (labels >= classes)))
        raise ValueError(
            f"Received a label value of {high if high >= classes else low} which is outside "
            f"the valid range of [0, {classes}) in `{name}` for output '{label_name}' "
            f"({_describe(objects[0])} expects integer class indices, and the output has "
            f"{classes} units). {outside} of {labels.size} labels are out of range. Map the "
            "labels to 0..classes-1 (e.g. `np.unique(y, return_inverse=True)[1]`) or give "
            "the last layer one unit per class."
        )


def _known_outputs(model):
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        return None
    if not outputs or any(getattr(o, "shape", None) is None for o in outputs):
        return None
    return list(outputs)


def _sparse_objects_per_output(model, names):
    """Per output, the compiled losses and metrics that take integer class labels."""
    found = [[] for _ in names]
    compiled_loss = getattr(model, "_compile_loss", None)
    if compiled_loss is not None:
        for i, loss in enumerate(per_output(compiled_loss._user_loss, names, "loss")):
            if _is_sparse(loss):
                found[i].append(loss)
    compiled_metrics = getattr(model, "_compile_metrics", None)
    if compiled_metrics is not None:
        for weighted, user in ((False, compiled_metrics._user_metrics),
                               (True, compiled_metrics._user_weighted_metrics)):
            for i, ids in enumerate(CompileMetrics._per_output(user, names, weighted)):
                found[i] += [m for m in ids if _is_sparse(m)]
    return found


def _describe(obj):
    if isinstance(obj, str):
        return f"'{obj}'"
    name = getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"'{name}'"


def _is_sparse(obj):
    if obj is None:
        return False
    text = obj if isinstance(obj, str) else " ".join(
        str(t) for t in (getattr(obj, "name", ""), getattr(obj, "__name__", ""),
                         type(obj).__name__))
    text = text.lower()
    return "sparse" in text and "categorical" in text


# tf.keras 2 loop arguments Keras 3 dropped: multiprocessing has no meaning here.
LEGACY_LOOP_ARGS = ("max_queue_size", "workers", "use_multiprocessing")


def check_legacy_loop_kwargs(method, kwargs):
    """tf.keras 2's queue/worker arguments are accepted and ignored; anything else is refused."""
    unknown = [k for k in kwargs if k not in LEGACY_LOOP_ARGS]
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument '{unknown[0]}'")


def resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return verbose


def should_evaluate(epoch, validation_freq):
    """Whether `fit` validates after `epoch` (0-based), by `validation_freq` (an int or a list)."""
    epoch = epoch + 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    if isinstance(validation_freq, (list, tuple)):
        return epoch in validation_freq
    raise ValueError("Expected `validation_freq` to be a list or int. "
                     f"Received: validation_freq={validation_freq} of the type "
                     f"{type(validation_freq)}.")
