"""Traced steps (`compile(jit_compile=...)`): record a step's backend calls, replay them.

A train / test / predict step runs eagerly (layers -> ops -> tape -> backend) while a
`Recording` notes its primitive calls. Once two consecutive steps of one input signature
(kind, structure, shapes and dtypes of the batch) record the same calls, they become a `Plan`:
later steps of that signature replay the flat list of calls on the new batch's arrays, with no
layer walk, tape or Tensor objects. Comparing two recordings (rather than trusting one) is
what finds values that change from step to step outside the recorded calls; the first step,
which builds layers, optimizer slots and metrics, simply fails to match the second.

Per-step host values are slots of the plan: the batch, the optimizer's learning rate and step
count (read from the optimizer at each replay, so schedules and callbacks that set the rate
take effect), and host draws (Dropout masks, drawn again). A step that reads a tensor back,
or whose calls keep differing, runs eagerly with one warning (an error with
`jit_compile=True`).
"""

import warnings

import numpy as np

from webkeras.backend import get_backend
from webkeras.ops import core
from webkeras.trainers.host_heap import keep_freed_memory
from webkeras.trainers.plan_fusion import fuse_conv_epilogues, fuse_relu_gradients
from webkeras.trainers.plan_recording import CONST, DRAW, SEQ, SLOT, Recording, Untraceable
from webkeras.trainers.webgpu_plan import device_plan
from webkeras.utils import tree

# Recordings of one signature compared before giving up (the first step builds weights,
# optimizer slots and metrics, so it never matches the second).
MAX_RECORDINGS = 4


class Plan:
    """A recorded step compiled for replay: `replay(inputs, host_values)` -> the step's
    return value (tensors over the replay's arrays)."""

    def __init__(self, traced):
        recording = traced.recording
        backend = recording.backend
        self.slot_count = recording.slot_count
        self.host_names = list(traced.host_values)
        self.step_delta = traced.step_delta
        self.calls = [(getattr(backend, call.name), [_fold(spec) for spec in call.args],
                       {key: _fold(spec) for key, spec in call.kwargs.items()} or None,
                       call.out) for call in recording.calls]
        self.calls = fuse_conv_epilogues(self.calls, backend, traced.output_specs)
        self.calls = fuse_relu_gradients(self.calls, backend, traced.output_specs)
        self.output_structure = traced.output_structure
        self.output_specs = traced.output_specs
        self.learning_rate_guard = None
        # Replays allocate the same large host arrays each step: keep freed ones for the next.
        keep_freed_memory()

    def replay(self, inputs, host_values):
        slots = [None] * self.slot_count
        slots[:len(inputs)] = inputs
        for i, name in enumerate(self.host_names):
            slots[len(inputs) + i] = host_values[name]
        for fn, args, kwargs, out in self.calls:
            argv = [slots[p] if k == SLOT else (p if k == CONST else _resolve(k, p, slots))
                    for k, p in args]
            result = fn(*argv) if kwargs is None else fn(*argv, **{
                key: _resolve(*spec, slots) for key, spec in kwargs.items()})
            if type(out) is int:
                slots[out] = result
            elif out is not None:
                _store(out, result, slots)
        flat = [_output(spec, slots) for spec in self.output_specs]
        return tree.pack_sequence_as(self.output_structure, flat)


def _fold(spec):
    """A tuple of constants (strides, pool sizes, shapes) as one constant, built once rather
    than at every replay."""
    kind, payload = spec
    if kind != SEQ or payload[0] is not tuple:
        return spec
    specs = [_fold(item) for item in payload[1]]
    if all(item[0] == CONST for item in specs):
        return (CONST, tuple(item[1] for item in specs))
    return (SEQ, (tuple, specs))


def _resolve(kind, payload, slots):
    if kind == SLOT:
        return slots[payload]
    if kind == CONST:
        return payload
    if kind == DRAW:
        return payload()
    container, specs = payload
    return container(_resolve(*spec, slots) for spec in specs)


def _store(out, result, slots):
    if type(out) is int:
        slots[out] = result
    elif out is not None:
        for spec, value in zip(out[1][1], result):
            _store(spec, value, slots)


def _output(spec, slots):
    is_tensor, value_spec = spec
    value = _resolve(*value_spec, slots)
    return core.make(value) if is_tensor else value


class _Traced:
    """One recorded step: its calls, what it returned and the host state it moved."""

    def __init__(self, recording, result, host_values, step_delta):
        self.recording = recording
        self.host_values = host_values
        self.step_delta = step_delta
        self.output_structure = result
        self.output_specs = [(core.is_tensor(leaf),
                              recording.spec_of(leaf.data if core.is_tensor(leaf) else leaf))
                             for leaf in tree.flatten(result)]


def difference(first, second):
    """Why two recordings of one signature cannot be one plan, or None when they agree."""
    a, b = first.recording.calls, second.recording.calls
    if len(a) != len(b) or any(x.name != y.name for x, y in zip(a, b)):
        return ("its backend calls differ from one step to the next (Python control flow "
                "that depends on something that changes per step)")
    for index, (x, y) in enumerate(zip(a, b)):
        from_host = x.name == "from_numpy"
        if x.out != y.out or x.kwargs.keys() != y.kwargs.keys() or not all(
                _same(s, t, from_host) for s, t in zip(
                    x.args + list(x.kwargs.values()), y.args + list(y.kwargs.values()))):
            return (f"call {index} (`{x.name}`) takes a value that changes from step to "
                    "step outside the traced calls (a Python-side per-step value: a learning "
                    "rate or step count computed on the host by an optimizer without a fused "
                    "update, a random draw not made through a Dropout layer, or state a "
                    "layer keeps between calls)")
    if first.step_delta != second.step_delta or \
            [s[0] for s in first.output_specs] != [s[0] for s in second.output_specs] or \
            not all(_same(s[1], t[1], False)
                    for s, t in zip(first.output_specs, second.output_specs)):
        return "what it returns differs from one step to the next"
    return None


def _same(a, b, from_host):
    if a[0] != b[0]:
        return False
    kind = a[0]
    if kind == SLOT:
        return a[1] == b[1]
    if kind == DRAW:
        return True
    if kind == SEQ:
        (x_type, x_specs), (y_type, y_specs) = a[1], b[1]
        return x_type is y_type and len(x_specs) == len(y_specs) and all(
            _same(s, t, from_host) for s, t in zip(x_specs, y_specs))
    x, y = a[1], b[1]
    if x is y:
        return True
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        # Host data uploaded in the step (Python numbers, constant arrays) may be new arrays
        # of the same values each step; any other array must be the very same object
        # (a variable's storage, a cached constant), else it is state carried between steps.
        return from_host and isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and \
            x.dtype == y.dtype and x.shape == y.shape and bool(np.array_equal(x, y))
    try:
        return type(x) is type(y) and bool(x == y)
    except (TypeError, ValueError):
        return False


class _Signature:
    """What one input signature has reached: a reference recording, a plan, or eager."""

    __slots__ = ("reference", "plan", "recordings", "eager_reason")

    def __init__(self):
        self.reference = self.plan = self.eager_reason = None
        self.recordings = 0


class StepPlans:
    """The traced steps of one compiled model: one plan per step kind and input signature.

    Args:
        model: the compiled model (its `train_step` / `test_step` / `predict_step` run).
        strict: `jit_compile=True`: a step that cannot be traced raises `Untraceable`.
    """

    def __init__(self, model, strict):
        self.model = model
        self.strict = strict
        self._signatures = {}
        self._warned = set()

    def run(self, kind, data):
        """`model.<kind>_step(data)`, replayed from a plan when one exists."""
        step = getattr(self.model, f"{kind}_step")
        leaves = tree.flatten(data)
        optimizer = getattr(self.model, "optimizer", None) if kind == "train" else None
        key = _signature_key(kind, optimizer, data, leaves)
        signature = self._signatures.get(key)
        if signature is None:
            signature = self._signatures[key] = _Signature()
        if signature.eager_reason is not None:
            return step(data)
        host_values = _host_values(optimizer)
        inputs = [leaf.data for leaf in leaves if core.is_tensor(leaf)]
        plan = signature.plan
        if plan is not None:
            guard = plan.learning_rate_guard
            if guard is None or guard == host_values.get("learning_rate"):
                result = plan.replay(inputs, host_values)
                if plan.step_delta:
                    optimizer._step += plan.step_delta
                return result
            # The learning rate entered the plan as a constant and has changed: record again.
            signature.plan = None
        return self._record(kind, step, data, inputs, host_values, optimizer, signature)

    def plan(self, kind, data):
        """The replay plan `run(kind, data)` would use for `data`'s signature, or None while
        it records (or runs eagerly)."""
        optimizer = getattr(self.model, "optimizer", None) if kind == "train" else None
        key = _signature_key(kind, optimizer, data, tree.flatten(data))
        signature = self._signatures.get(key)
        return signature.plan if signature is not None else None

    def _record(self, kind, step, data, inputs, host_values, optimizer, signature):
        step_before = optimizer._step if optimizer is not None else 0
        with Recording(get_backend(), inputs, host_values, self.strict) as recording:
            result = step(data)
            traced = _Traced(recording, result, host_values,
                             (optimizer._step if optimizer is not None else 0) - step_before)
        signature.recordings += 1
        if recording.untraceable is not None:
            self._give_up(kind, signature, recording.untraceable)
            return result
        reference, signature.reference = signature.reference, traced
        if reference is not None:
            reason = difference(reference, traced)
            if reason is None:
                signature.plan = device_plan(Plan(traced), recording.backend)
                # A learning rate that stayed put while recording may hide in constants
                # (weight decay * lr): the plan holds only while it stays put.
                rate = host_values.get("learning_rate")
                if rate is not None and rate == reference.host_values.get("learning_rate"):
                    signature.plan.learning_rate_guard = rate
                signature.reference = None
                signature.recordings = 0
            elif signature.recordings >= MAX_RECORDINGS:
                self._give_up(kind, signature, reason)
        return result

    def _give_up(self, kind, signature, reason):
        signature.eager_reason = reason
        signature.reference = None
        name = getattr(self.model, "name", type(self.model).__name__)
        if self.strict:
            raise Untraceable(f"jit_compile=True: the {kind} step of model '{name}' cannot be "
                              f"traced: {reason}. Compile with jit_compile=False, or 'auto' "
                              "to run such steps eagerly.")
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(f"The {kind} step of model '{name}' runs eagerly (jit_compile): "
                          f"{reason}.", stacklevel=4)


def _host_values(optimizer):
    """The per-step host values the fused optimizer updates take (see HOST_ARGUMENTS)."""
    if optimizer is None:
        return {}
    return {"learning_rate": optimizer._current_learning_rate(), "step": optimizer._step + 1}


def _signature_key(kind, optimizer, data, leaves):
    return (kind, id(optimizer), _structure(data),
            tuple((leaf.shape, leaf.dtype) if core.is_tensor(leaf) else repr(leaf)
                  for leaf in leaves))


def _structure(data):
    if isinstance(data, dict):
        return ("dict",) + tuple((key, _structure(data[key])) for key in sorted(data))
    if isinstance(data, (list, tuple)):
        return (type(data).__name__,) + tuple(_structure(item) for item in data)
    return None
