"""Which way a monitored quantity improves: 'min', 'max', or 'auto' from its name."""

import numpy as np

_MAXIMIZED = ("acc", "auc", "precision", "recall", "true_positives", "true_negatives",
              "fmeasure", "f1", "iou", "cosine_similarity", "r2")


def monitor_direction(monitor, mode, model=None, caller="callback"):
    """'min' or 'max' for `monitor` under `mode`, raising as Keras does when unsure."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in getattr(model, "metrics", None) or []:
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction in ("up", "down"):
            return "max" if direction == "up" else "min"
    if any(key in name for key in _MAXIMIZED):
        return "max"
    if any(key in name for key in ("error", "mse", "mae", "mape", "msle", "crossentropy",
                                   "hinge", "poisson", "divergence", "log_cosh", "logcosh",
                                   "false_")):
        return "min"
    raise ValueError(
        f"{caller} callback received monitor={monitor} but Keras isn't able to automatically "
        "determine whether that metric should be maximized or minimized. Pass `mode='max'` "
        "in order to monitor based on the highest metric value, or pass `mode='min'` in "
        "order to use the lowest value."
    )


def as_float(value):
    """A log value as a Python float (a tensor is read back)."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(np.asarray(value))
