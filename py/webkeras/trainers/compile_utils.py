"""The loss and metric containers `compile()` builds, matched to the model's outputs.

Every argument (`loss`, `loss_weights`, `metrics`, `weighted_metrics`, targets, sample
weights) is normalised to one entry per flat model output, in the order `tree.flatten`
visits the model's outputs. Outputs are named as Keras names them: the output layer's name
for list outputs, the key for dict outputs.
"""

import numpy as np

from webkeras import losses as losses_module
from webkeras import metrics as metrics_module
from webkeras import ops
from webkeras.utils import tree


def output_names_for(model, y_pred):
    """Names of the flat outputs: dict keys (sorted, as flattened) or the output layers'."""
    if isinstance(y_pred, dict):
        return sorted(y_pred)
    flat = tree.flatten(y_pred)
    names = getattr(model, "output_names", None)
    if names and len(names) == len(flat):
        return list(names)
    if len(flat) == 1:
        return ["output"]
    return [f"output_{i + 1}" for i in range(len(flat))]


def per_output(value, names, argument, default=None):
    """One entry of `value` per output: a dict by output name, a list by position, or one
    value for every output."""
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(
                f"In the dict argument `{argument}`, key '{unknown[0]}' does not correspond "
                f"to any model output. The model's outputs are named {names}. Received:\n"
                f"{argument}={value}"
            )
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"`{argument}` is a list of {len(value)} entries but the model has "
                f"{len(names)} output(s) {names}. Pass one entry per output, or a dict keyed "
                f"by output name. Received: {argument}={value}"
            )
        return list(value)
    return [value] * len(names)


def flatten_targets(y, names, argument="y"):
    """Targets (or per-output sample weights) as one entry per flat output."""
    if y is None:
        return [None] * len(names)
    if isinstance(y, dict):
        unknown = [key for key in y if key not in names]
        if unknown:
            raise ValueError(
                f"The `{argument}` dict has key(s) {unknown} that name no model output. "
                f"Expected keys from the model's output names {names}."
            )
        return [y.get(name) for name in names]
    if isinstance(y, (list, tuple)) and len(names) > 1:
        if len(y) != len(names):
            raise ValueError(
                f"The model has {len(names)} outputs {names} but `{argument}` holds "
                f"{len(y)} arrays. Pass one array per output (a list in output order, or a "
                "dict keyed by output name)."
            )
        return list(y)
    if isinstance(y, (list, tuple)) and len(y) == 1:
        return [y[0]]
    if len(names) > 1:
        if argument == "sample_weight":
            return [y] * len(names)
        raise ValueError(
            f"The model has {len(names)} outputs {names} but `{argument}` is a single array. "
            "Pass one array per output (a list in output order, or a dict keyed by output "
            "name)."
        )
    return [y]


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else tuple(ops.convert_to_tensor(x).shape)


def check_target_shape(y_true, y_pred, loss, name):
    """Fail early, naming the output, when targets cannot match the output's shape."""
    true_shape, pred_shape = _shape(y_true), _shape(y_pred)
    if true_shape and pred_shape and true_shape[0] != pred_shape[0]:
        raise ValueError(
            f"Output '{name}' has batch size {pred_shape[0]} but its targets have "
            f"{true_shape[0]} samples (targets shape {true_shape}, output shape {pred_shape})."
        )
    loss_name = getattr(loss, "name", "") or ""
    if "sparse" in loss_name or not true_shape or not pred_shape:
        return
    t, p = list(true_shape), list(pred_shape)
    if len(t) == len(p) + 1 and t[-1] == 1:
        t = t[:-1]
    elif len(p) == len(t) + 1 and p[-1] == 1:
        p = p[:-1]
    # As Keras 3's losses: after that squeeze, the two broadcast (NumPy rules) or fail.
    try:
        np.broadcast_shapes(tuple(t), tuple(p))
        compatible = True
    except ValueError:
        compatible = False
    if not compatible:
        hint = ""
        if "categorical" in loss_name and len(true_shape) < len(pred_shape) + 1 and (
                len(true_shape) == 1 or true_shape[-1] == 1):
            hint = (" Integer class labels need `sparse_categorical_crossentropy`, or one-hot "
                    "encode them with `keras.utils.to_categorical`.")
        raise ValueError(
            f"Targets of shape {true_shape} do not match the shape {pred_shape} of model "
            f"output '{name}' (loss '{loss_name}')." + hint
        )


def _resolve_losses(loss):
    if isinstance(loss, dict):
        return {key: _resolve_losses(value) for key, value in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_resolve_losses(value) for value in loss]
    return None if loss is None else losses_module.get(loss)


class CompileLoss:
    """The compiled loss: sum over outputs of `weight * loss(y_true, y_pred, sample_weight)`.

    With more than one loss, each output's (unweighted) loss is also tracked by a Mean
    named '<output>_loss', as Keras logs it.
    """

    def __init__(self, loss, loss_weights=None):
        if loss_weights is not None and not isinstance(loss_weights, (int, float, list, tuple,
                                                                      dict)):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a "
                "list, tuple, or dict (multiple output case). Received instead: "
                f"loss_weights={loss_weights} of type {type(loss_weights)}"
            )
        # Resolved now so that an unknown name fails in compile(), not in fit().
        self._user_loss = _resolve_losses(loss)
        self._user_loss_weights = loss_weights
        self.built = False
        self.metrics = []

    def build(self, names):
        self.names = names
        losses = per_output(self._user_loss, names, "loss")
        self.losses = losses
        if all(loss is None for loss in self.losses):
            raise ValueError(f"No loss to compute: `loss` names none of the outputs {names}.")
        weights = self._user_loss_weights
        if isinstance(weights, (int, float)):
            weights = [weights] * len(names)
        self.weights = per_output(weights, names, "loss_weights", default=1.0)
        self.weights = [1.0 if w is None else float(w) for w in self.weights]
        active = [i for i, loss in enumerate(self.losses) if loss is not None]
        self.metrics = []
        self._trackers = {}
        if len(active) > 1:
            for i in active:
                self._trackers[i] = metrics_module.Mean(name=f"{names[i]}_loss")
                self.metrics.append(self._trackers[i])
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        total = None
        for i, (loss, weight) in enumerate(zip(self.losses, self.weights)):
            if loss is None:
                continue
            if y_true[i] is None:
                raise ValueError(
                    f"No targets were given for output '{self.names[i]}', which has a loss. "
                    "Pass targets for every output that has a loss."
                )
            check_target_shape(y_true[i], y_pred[i], loss, self.names[i])
            value = loss(y_true[i], y_pred[i], sample_weight[i])
            if i in self._trackers:
                self._trackers[i].update_state(value, sample_weight=float(_shape(y_pred[i])[0]))
            if weight != 1.0:
                value = value * weight
            total = value if total is None else total + value
        return total


def _is_metric_identifier(identifier):
    return identifier is not None and not isinstance(identifier, (list, tuple, dict))


def _clone_metric(identifier):
    """A fresh metric like `identifier` (names and functions make a new one each time)."""
    if not isinstance(identifier, metrics_module.Metric):
        return identifier
    try:
        return type(identifier).from_config(identifier.get_config())
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"The metric {identifier!r} is listed once for several outputs, but it cannot be "
            "copied for each of them from its config. Pass `metrics` as a dict keyed by "
            "output name, with one metric object per output."
        ) from error


class CompileMetrics:
    """The compiled metrics, one list per output; `metrics` ignore sample weights and
    `weighted_metrics` use them (Keras 3). Multi-output metrics log as '<output>_<name>'."""

    def __init__(self, metrics=None, weighted_metrics=None):
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"Expected `{argument}` argument to be a list, tuple, or dict. "
                    f"Received instead: {argument}={value} of type {type(value)}"
                )
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.built = False
        self.entries = []  # (output index, metric, log name, weighted)

    def build(self, names, y_true, y_pred, loss_names):
        self.entries = []
        used = set()
        for weighted, user in ((False, self._user_metrics), (True, self._user_weighted_metrics)):
            for i, ids in enumerate(self._per_output(user, names, weighted)):
                for identifier in ids:
                    metric = metrics_module.get(identifier, loss_names[i], _shape(y_true[i]),
                                                _shape(y_pred[i]))
                    log_name = metric.name if len(names) == 1 else f"{names[i]}_{metric.name}"
                    if weighted and log_name in used:
                        log_name = f"weighted_{log_name}"
                    used.add(log_name)
                    self.entries.append((i, metric, log_name, weighted))
        self.built = True

    @staticmethod
    def _per_output(user, names, weighted):
        argument = "weighted_metrics" if weighted else "metrics"
        if user is None:
            return [[] for _ in names]
        if isinstance(user, dict):
            entries = per_output(user, names, argument, default=[])
        elif len(names) == 1:
            entries = [list(user)]
        elif len(user) != len(names) and all(_is_metric_identifier(m) for m in user):
            # tf.keras 2: a flat list that is not one entry per output applies to each output.
            entries = [list(user)] + [[_clone_metric(m) for m in user] for _ in names[1:]]
        else:
            if len(user) != len(names):
                raise ValueError(
                    f"Invalid `{argument}`. `{argument}` should contain metrics objects and "
                    "either be a dict or a list matching the output names of the functional "
                    f"model {names} or match the output structure of the model: "
                    f"{['X'] * len(names)}.\nReceived: {argument}={user}"
                )
            entries = list(user)
        return [list(e) if isinstance(e, (list, tuple)) else ([] if e is None else [e])
                for e in entries]

    @property
    def metrics(self):
        return [metric for _, metric, _, _ in self.entries]

    def update_state(self, y_true, y_pred, sample_weight):
        for i, metric, _, weighted in self.entries:
            metric.update_state(y_true[i], y_pred[i], sample_weight[i] if weighted else None)

    def result(self):
        return {log_name: metric.result() for _, metric, log_name, _ in self.entries}

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()
