"""compile / fit / evaluate / predict for every Model (Keras 3 semantics).

Batches are host arrays until `_to_tensors` converts each one once; metric results are read
back only when logs are needed (per batch only for callbacks that read batch logs).
"""

import os
import warnings

import numpy as np

from webkeras import backend
from webkeras import metrics as metrics_module
from webkeras import ops
from webkeras import optimizers as optimizers_module
from webkeras.callbacks.callback_list import CallbackList
from webkeras.layers import layer as layer_module
from webkeras.ops.tape import GradientTape
from webkeras.ops.tensor import numpy_values
from webkeras.trainers import argument_checks as checks
from webkeras.trainers.compile_utils import (CompileLoss, CompileMetrics, flatten_targets,
                                             output_names_for)
from webkeras.trainers.data_adapter import split_validation, unpack_x_y_sample_weight
from webkeras.trainers.epoch_iterator import EpochIterator
from webkeras.trainers.step_plan import StepPlans
from webkeras.utils import tree


class Trainer:
    """Mixin of Model: the training loop. The model must be callable on tensors."""

    compiled = False
    _added_metrics = None
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _jit_compile = None
    _step_plans = None
    run_eagerly = False

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configures the model for training (`keras.Model.compile`).

        Args:
            optimizer: name or `keras.optimizers.Optimizer`.
            loss: a loss for every output, or a list / dict (by output name) of losses.
            loss_weights: float, or a list / dict of per-output weights.
            metrics: list of metrics (single output), or a list of lists / dict by output
                name. Not weighted by `sample_weight`.
            weighted_metrics: like `metrics`, weighted by `sample_weight` / `class_weight`.
            run_eagerly: run every step op by op (never traced).
            jit_compile: True, False or "auto": trace each step once per input signature
                and replay the recorded backend calls (see `trainers/step_plan.py`). A step
                that cannot be traced runs eagerly with a warning ("auto") or raises
                (True). "auto" traces on the NumPy and WebGPU backends.

        tf.keras 2's `sample_weight_mode` (per-timestep weights are recognised by their shape)
        and `experimental_run_tf_function` are accepted and ignored.
        """
        unknown = [k for k in kwargs if k not in ("sample_weight_mode",
                                                  "experimental_run_tf_function")]
        if unknown:
            raise TypeError(f"compile() got an unexpected keyword argument '{unknown[0]}'")
        if jit_compile not in ("auto", True, False):
            raise ValueError("`jit_compile` must be 'auto', True or False. Received: "
                             f"jit_compile={jit_compile!r}")
        auto = jit_compile == "auto"
        if auto:
            jit_compile = not run_eagerly and self._resolve_auto_jit_compile()
        if jit_compile and run_eagerly:
            jit_compile = False
            warnings.warn("If `run_eagerly` is True, then `jit_compile` cannot also be True. "
                          "Disabling `jit_compile`.", stacklevel=2)
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = jit_compile
        if auto and self._step_plans is not None:
            # "auto" runs a step that cannot be traced eagerly; True makes that an error.
            self._step_plans.strict = False
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._compile_loss = CompileLoss(loss, loss_weights) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics)
        self._loss_tracker = metrics_module.Mean(name="loss")
        # One Mean per `add_metric` name (tf.keras 2), created when first reported.
        self._added_metrics = {}
        self.compiled = True
        self.stop_training = False

    # -- traced steps ------------------------------------------------------------------------
    @property
    def jit_compile(self):
        """Whether steps are traced and replayed (see `compile`)."""
        if self._jit_compile is None:
            self._jit_compile = self._resolve_auto_jit_compile()
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        self._jit_compile = value
        # New plans: a plan belongs to the compiled state (optimizer, losses, metrics).
        self._step_plans = StepPlans(self, strict=value is True) if value else None

    def _resolve_auto_jit_compile(self):
        # Measured faster than eager on the NumPy backend, and on WebGPU natively and in the
        # tab (bench/train_step.py, bench/results/train_step_tab_webgpu_2026-12-05.md): a
        # replayed WebGPU step is one command buffer per program (trainers/webgpu_plan.py),
        # in the tab one call into web/gpu_bridge.js.
        # WEBKERAS_JIT_COMPILE=0 makes "auto" eager (to run a test suite both ways).
        if os.environ.get("WEBKERAS_JIT_COMPILE", "auto") == "0":
            return False
        return backend.backend() in ("numpy", "webgpu")

    def _run_step(self, kind, batch):
        """`<kind>_step` on a host batch: replayed from a plan when `jit_compile` is on."""
        data = _to_tensors(batch)
        if self._step_plans is None:
            return getattr(self, f"{kind}_step")(data)
        return self._step_plans.run(kind, data)

    # -- one step ----------------------------------------------------------------------------
    def _output_names_for(self, y_pred):
        names = output_names_for(self, y_pred)
        if self._compile_loss is not None and not self._compile_loss.built:
            self._compile_loss.build(names)
        return names

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus every `add_loss` / regularization loss.

        `compile()` may omit `loss` when the model adds its own with `add_loss`.
        """
        losses = []
        if self._compile_loss is not None:
            names = self._output_names_for(y_pred)
            losses.append(self._compile_loss(
                flatten_targets(y, names), tree.flatten(y_pred),
                flatten_targets(sample_weight, names, "sample_weight")))
        losses.extend(_aggregate_additional_loss(extra) for extra in self.losses)
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`, "
                             "or add one in the model's `call` with `self.add_loss(...)`.")
        total = losses[0]
        for extra in losses[1:]:
            total = total + extra
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns `get_metrics_result()`."""
        for layer in self._flatten_layers() if layer_module.metric_values_added() else ():
            for name, value in layer.__dict__.get("_own_metric_values", ()):
                if self._added_metrics is None:
                    self._added_metrics = {}
                if name not in self._added_metrics:
                    self._added_metrics[name] = metrics_module.Mean(name=name)
                self._added_metrics[name].update_state(value)
        compiled = self._compile_metrics
        if compiled is not None and y is not None:
            names = self._output_names_for(y_pred)
            y_true, flat_pred = flatten_targets(y, names), tree.flatten(y_pred)
            if not compiled.built:
                loss_names = [getattr(loss, "name", None) for loss in self._compile_loss.losses] \
                    if self._compile_loss is not None else [None] * len(names)
                compiled.build(names, y_true, flat_pred, loss_names)
            compiled.update_state(y_true, flat_pred,
                                  flatten_targets(sample_weight, names, "sample_weight"))
        return self.get_metrics_result()

    @property
    def metrics(self):
        """Loss tracker, per-output loss trackers, compiled metrics (Keras 3's order)."""
        metrics = []
        if self.compiled:
            metrics.append(self._loss_tracker)
            if self._compile_loss is not None:
                metrics.extend(self._compile_loss.metrics)
            if self._compile_metrics is not None:
                metrics.extend(self._compile_metrics.metrics)
            metrics.extend((self._added_metrics or {}).values())
        return metrics

    def _metrics_by_log_name(self):
        """[(log name, metric)] for every metric (a later one of the same name wins)."""
        log_names = {}
        if self._compile_metrics is not None:
            log_names = {id(m): name for _, m, name, _ in self._compile_metrics.entries}
        return [(log_names.get(id(m), m.name), m) for m in self.metrics]

    def get_metrics_result(self):
        """`{log name: result tensor}` for every metric, in sorted key order."""
        logs = {name: m.result() for name, m in self._metrics_by_log_name()}
        return {key: logs[key] for key in sorted(logs)}

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    @property
    def metrics_names(self):
        """Names in the order `evaluate` lists values: loss, per-output losses, metrics."""
        names = ["loss"] if self.compiled else []
        if self._compile_metrics is not None and self._compile_metrics.built:
            single = len({i for i, _, _, _ in self._compile_metrics.entries}) <= 1 and \
                all(name == m.name for _, m, name, _ in self._compile_metrics.entries)
            if single and not (self._compile_loss and self._compile_loss.metrics):
                names += [name for _, _, name, _ in self._compile_metrics.entries]
        if self._compile_loss is not None:
            names += [m.name for m in self._compile_loss.metrics]
        # The log names without computing the results (this runs after every *_on_batch).
        log_names = sorted({name for name, _ in self._metrics_by_log_name()})
        extra = [n for n in log_names if n not in names] if self.compiled else []
        return names + extra

    # -- loops -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Trains the model for a fixed number of epochs; returns the `History` callback.

        tf.keras 2's `max_queue_size`, `workers` and `use_multiprocessing` are accepted and
        ignored (Keras 3 moved them to `keras.utils.PyDataset`).
        """
        checks.check_legacy_loop_kwargs("fit", kwargs)
        self._assert_compiled("fit")
        epochs = checks.positive_int("epochs", epochs, allow_none=False)
        batch_size = checks.positive_int("batch_size", batch_size)
        steps_per_epoch = checks.positive_int("steps_per_epoch", steps_per_epoch)
        validation_steps = checks.positive_int("validation_steps", validation_steps)
        validation_batch_size = checks.positive_int("validation_batch_size",
                                                    validation_batch_size)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = split_validation(
                x, y, validation_split, sample_weight)
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                 class_weight)
        self._check_data(iterator, "x")
        val_iterator = None
        if validation_data is not None:
            val_x, val_y, val_w = unpack_x_y_sample_weight(validation_data)
            val_iterator = EpochIterator(val_x, val_y, val_w,
                                         validation_batch_size or batch_size,
                                         validation_steps)
            self._check_data(val_iterator, "validation_data")
        verbose = checks.resolve_verbose(verbose)
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=iterator.num_batches)
        self.stop_training = False
        training_logs = {}
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            steps_run = 0
            for step, batch in iterator.enumerate_epoch():
                cbs.on_train_batch_begin(step)
                logs = self._run_step("train", batch)
                cbs.on_train_batch_end(step, logs)
                steps_run += 1
                if self.stop_training:
                    break
            if iterator.ran_out_of_data:
                self.stop_training = True
            if steps_run == 0:
                break
            epoch_logs = _pythonify(self.get_metrics_result())
            if val_iterator is not None and checks.should_evaluate(epoch, validation_freq):
                val_logs = self._evaluate_loop(val_iterator, cbs, return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        cbs.on_train_end(training_logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metric values in test mode: a scalar, a list, or a dict (`return_dict`)."""
        self._assert_compiled("evaluate")
        kwargs = {k: v for k, v in kwargs.items() if k not in checks.LEGACY_LOOP_ARGS}
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        batch_size = checks.positive_int("batch_size", batch_size)
        steps = checks.positive_int("steps", steps)
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps)
        self._check_data(iterator, "x")
        verbose = checks.resolve_verbose(verbose)
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=iterator.num_batches)
        return self._evaluate_loop(iterator, cbs, return_dict)

    def _evaluate_loop(self, iterator, cbs, return_dict):
        self.reset_metrics()
        cbs.on_test_begin()
        for step, batch in iterator.enumerate_epoch():
            cbs.on_test_batch_begin(step)
            logs = self._run_step("test", batch)
            cbs.on_test_batch_end(step, logs)
        logs = _pythonify(self.get_metrics_result())
        cbs.on_test_end(logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                **kwargs):
        """Output NumPy arrays for the input samples, batch by batch."""
        checks.check_legacy_loop_kwargs("predict", kwargs)
        batch_size = checks.positive_int("batch_size", batch_size)
        steps = checks.positive_int("steps", steps)
        iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps,
                                 shuffle=False)
        self._check_data(iterator, "x")
        verbose = checks.resolve_verbose(verbose)
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=iterator.num_batches)
        outputs = []
        cbs.on_predict_begin()
        for step, batch in iterator.enumerate_epoch():
            cbs.on_predict_batch_begin(step)
            out = tree.map_structure(_to_numpy, self._run_step("predict", batch))
            outputs.append(out)
            cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). "
                             "Please use `Model.compile(..., run_eagerly=True)`, or "
                             "check that your input data is not empty.")
        flat = [np.concatenate(parts) for parts in zip(*[tree.flatten(o) for o in outputs])]
        return tree.pack_sequence_as(outputs[0], flat)

    # -- tf.keras 2's generator methods (removed in Keras 3): the loops take generators --
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1,
                      callbacks=None, validation_data=None, validation_steps=None,
                      validation_freq=1, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """tf.keras 2's `fit_generator`: `fit` with the generator as `x`."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                           workers=1, use_multiprocessing=False, verbose=0):
        """tf.keras 2's `evaluate_generator`: `evaluate` with the generator as `x`."""
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                          workers=1, use_multiprocessing=False, verbose=0):
        """tf.keras 2's `predict_generator`: `predict` with the generator as `x`."""
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One gradient update on one batch. Metrics accumulate until `reset_metrics()`."""
        self._assert_compiled("train_on_batch")
        self._check_batch(x, y, sample_weight)
        if class_weight:
            from webkeras.trainers.data_adapter import class_weight_to_sample_weights

            weights = class_weight_to_sample_weights(tree.flatten(y)[0], class_weight)
            sample_weight = weights if sample_weight is None else weights * sample_weight
        logs = _pythonify(self._run_step("train", (x, y, sample_weight)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        self._check_batch(x, y, sample_weight)
        self.reset_metrics()
        logs = _pythonify(self._run_step("test", (x, y, sample_weight)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        self._check_batch(x)
        return tree.map_structure(_to_numpy, self._run_step("predict", (x,)))

    def _check_data(self, iterator, name):
        """The checks that need the whole data: samples, and sparse labels in range."""
        adapter = iterator.data_adapter
        checks.check_has_samples(adapter, name)
        y = getattr(getattr(adapter, "adapter", adapter), "y", None)
        if y is not None:
            checks.check_label_range(self, y, "y" if name == "x" else name)

    def _check_batch(self, x, y=None, sample_weight=None):
        """`*_on_batch` arguments given as host arrays (tensors are taken as they are)."""
        for name, value in (("x", x), ("y", y)):
            for array in tree.flatten(value):
                if isinstance(array, (np.ndarray, list)):
                    checks.reject_complex(np.asarray(array), name)
                    if np.ndim(array) and len(array) == 0:
                        raise ValueError(f"`{name}` holds 0 samples (shape "
                                         f"{np.shape(array)}). Expected at least one sample.")
        if sample_weight is not None and all(isinstance(w, (np.ndarray, list, float, int))
                                             for w in tree.flatten(sample_weight)):
            checks.check_finite_weights(sample_weight)
        if y is not None and all(isinstance(a, (np.ndarray, list)) for a in tree.flatten(y)):
            checks.check_label_range(self, tree.map_structure(np.asarray, y))

    def _flatten_metrics_in_order(self, logs):
        names = self.metrics_names
        values = [logs[n] for n in names if n in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before calling `{method}()`. "
                "For example: model.compile(optimizer='adam', loss='mse')"
            )


def _aggregate_additional_loss(loss):
    """An `add_loss` value as a float scalar (Keras sums a non-scalar one)."""
    loss = ops.convert_to_tensor(loss)
    if "float" not in str(loss.dtype):
        loss = ops.cast(loss, "float32")
    return ops.sum(loss) if loss.ndim else loss


def _batch_size(x):
    first = tree.flatten(x)[0]
    return float(first.shape[0])


def _host(a):
    if a is None or not isinstance(a, (np.ndarray, np.generic, list, int, float, bool)):
        return a
    array = np.asarray(a)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32, copy=False)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int32, copy=False)
    return array


def _to_tensors(data):
    """Host batch -> tensors, once; None entries (no targets / weights) stay None."""
    return tree.map_structure(
        lambda a: None if a is None else ops.convert_to_tensor(_host(a)), data)


def _to_numpy(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _pythonify(logs):
    """The readback (one for all the tensors): tensor logs -> floats, keys sorted as Keras
    sorts them."""
    keys = sorted(logs or {})
    values = numpy_values([logs[key] for key in keys])
    return {key: float(np.asarray(value)) for key, value in zip(keys, values)}

