"""compile / fit / evaluate / predict for every Model (Keras 3 semantics)."""

import numpy as np

from webkeras import losses as losses_module
from webkeras import metrics as metrics_module
from webkeras import ops
from webkeras import optimizers as optimizers_module
from webkeras.callbacks import CallbackList, History, ProgbarLogger
from webkeras.ops.tape import GradientTape
from webkeras.trainers.data_adapter import ArrayDataAdapter, split_validation
from webkeras.utils import tree
from webkeras.utils.progbar import Progbar


class Trainer:
    """Mixin of Model: the training loop. The model must be callable on tensors."""

    compiled = False

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs):
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_fn = losses_module.get(loss) if loss is not None else None
        self._metric_ids = list(metrics or [])
        self._metrics = None  # resolved on the first batch, when shapes are known
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.compiled = True
        self.stop_training = False

    # -- one step ----------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        if self._loss_fn is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        _check_target_shapes(y, y_pred)
        loss = self._loss_fn(y, y_pred, sample_weight)
        for extra in self.losses:
            loss = loss + extra
        return loss

    def _resolve_metrics(self, y, y_pred):
        if self._metrics is None:
            loss_name = getattr(self._loss_fn, "name", None)
            self._metrics = [
                metrics_module.get(m, loss_name, _shape(y), tuple(y_pred.shape))
                for m in self._metric_ids
            ]
        return self._metrics

    def train_step(self, x, y, sample_weight=None):
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        _apply_constraints(variables)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def test_step(self, x, y, sample_weight=None):
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        return self._update_metrics(loss, y, y_pred, sample_weight)

    def _update_metrics(self, loss, y, y_pred, sample_weight):
        self._loss_tracker.update_state(loss)
        for metric in self._resolve_metrics(y, y_pred):
            metric.update_state(y, y_pred, sample_weight)
        return self._metric_results()

    def _metric_results(self):
        # Keras orders logs as: loss, then compiled metrics (this is where readback happens).
        logs = {"loss": float(self._loss_tracker.result())}
        for metric in self._metrics or []:
            logs[metric.name] = float(metric.result())
        return logs

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        for metric in self._metrics or []:
            metric.reset_state()

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self._metrics or []]

    # -- loops -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            sample_weight=None, **kwargs):
        self._assert_compiled("fit")
        if kwargs:
            raise TypeError(f"fit() got unsupported keyword arguments: {sorted(kwargs)}")
        if validation_split and validation_data is None:
            (x, y), validation_data = split_validation(x, y, validation_split)
        data = ArrayDataAdapter(x, y, sample_weight, batch_size, shuffle=shuffle)
        verbose = 1 if verbose == "auto" else verbose
        history = History()
        callback_list = list(callbacks or []) + [history]
        if verbose:
            callback_list.append(ProgbarLogger(verbose))
        params = {"verbose": verbose, "epochs": epochs, "steps": data.num_batches}
        cbs = CallbackList(callback_list, self, params)
        self.stop_training = False
        cbs.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch, {})
            logs = {}
            for step, (xb, yb, wb) in enumerate(data.batches()):
                cbs.on_train_batch_begin(step, {})
                logs = self.train_step(_to_tensors(xb), _to_tensors(yb), wb)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if validation_data is not None and not self.stop_training:
                val_x, val_y = validation_data[0], validation_data[1]
                self._in_fit = True
                try:
                    val_logs = self.evaluate(val_x, val_y, batch_size=batch_size, verbose=0,
                                             return_dict=True)
                finally:
                    self._in_fit = False
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end({})
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict=False, **kwargs):
        self._assert_compiled("evaluate")
        data = ArrayDataAdapter(x, y, sample_weight, batch_size, shuffle=False)
        verbose = 1 if verbose == "auto" else verbose
        cbs = CallbackList(callbacks or [], self, {"steps": data.num_batches, "verbose": verbose})
        progbar = Progbar(data.num_batches, verbose=verbose) if verbose else None
        self._reset_metrics()
        cbs.on_test_begin({})
        logs = {}
        for step, (xb, yb, wb) in enumerate(data.batches()):
            cbs.on_test_batch_begin(step, {})
            logs = self.test_step(_to_tensors(xb), _to_tensors(yb), wb)
            cbs.on_test_batch_end(step, logs)
            if progbar:
                progbar.update(step + 1, logs)
        cbs.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None, **kwargs):
        data = ArrayDataAdapter(x, None, None, batch_size, shuffle=False)
        verbose = 1 if verbose == "auto" else verbose
        progbar = Progbar(data.num_batches, verbose=verbose) if verbose else None
        outputs = []
        for step, (xb, _, _) in enumerate(data.batches()):
            out = self(_to_tensors(xb), training=False)
            outputs.append(tree.map_structure(lambda t: t.numpy(), out))
            if progbar:
                progbar.update(step + 1)
        first = outputs[0]
        flat = [np.concatenate(parts) for parts in zip(*[tree.flatten(o) for o in outputs])]
        return tree.pack_sequence_as(first, flat)

    def train_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("train_on_batch")
        self._reset_metrics()
        data = ArrayDataAdapter(x, y, sample_weight, len(tree.flatten(x)[0]))
        xb, yb, wb = next(data.batches())
        logs = self.train_step(_to_tensors(xb), _to_tensors(yb), wb)
        return logs if return_dict else _as_list(logs, self.metrics_names)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        self._reset_metrics()
        logs = self.test_step(_to_tensors(ArrayDataAdapter(x, y).x), y, sample_weight)
        return logs if return_dict else _as_list(logs, self.metrics_names)

    def predict_on_batch(self, x):
        return tree.map_structure(lambda t: t.numpy(), self(_to_tensors(x), training=False))

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before calling `{method}()`. "
                "For example: model.compile(optimizer='adam', loss='mse')"
            )


def _shape(y):
    """Shape of targets without reading a device tensor back."""
    return tuple(y.shape) if hasattr(y, "shape") else tuple(np.shape(y))


def _to_tensors(x):
    return tree.map_structure(ops.convert_to_tensor, x)


def _as_list(logs, names):
    values = [logs[n] for n in names if n in logs]
    return values[0] if len(values) == 1 else values


def _check_target_shapes(y, y_pred):
    y_shape = _shape(y)
    pred_shape = tuple(y_pred.shape)
    if y_shape and pred_shape and y_shape[0] != pred_shape[0]:
        raise ValueError(
            f"The model's output has batch size {pred_shape[0]} but the targets have "
            f"{y_shape[0]} samples (targets shape {y_shape}, output shape {pred_shape})."
        )


def _apply_constraints(variables):
    """Keras projects constrained variables right after each optimizer update."""
    for variable in variables:
        constraint = getattr(variable, "constraint", None)
        if constraint is not None:
            variable.assign(constraint(variable))
