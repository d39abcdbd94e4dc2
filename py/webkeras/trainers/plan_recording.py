"""Recording one step's backend primitive calls: what a step plan is compiled from.

While a `Recording` is active, every primitive method of the backend object (`Backend`'s
public methods) is shadowed by an instance attribute that calls the real method and notes
the call: its name, and each argument as a *spec* saying where the value comes from:

- `(SLOT, i)`: an array an earlier call of this step returned (or a step input / host value);
- `(CONST, obj)`: anything else, passed as it is (variables' storage, which `assign` and the
  optimizer updates write in place, read by reference; literals; cached constants);
- `(DRAW, draw)`: a host draw (`random_state.host_draw`), drawn again at each replay;
- `(SEQ, (type, specs))`: a list or tuple holding any of these.

Only the outermost call is noted (a primitive built from others is one call). A read-back of
a tensor's value (`.numpy()`, `float()`, `bool()`, ...) makes the step untraceable: Python that
reads a value may branch on it, and a plan cannot replay that.
"""

import inspect
import os
import sys

import numpy as np

from webkeras.backend.base import Backend
from webkeras.utils import random_state

SLOT, CONST, DRAW, SEQ = range(4)

# Primitives that are metadata or readback, not work a plan replays.
_NOT_RECORDED = ("to_numpy", "shape", "dtype", "flush")
PRIMITIVES = tuple(name for name, value in vars(Backend).items()
                   if callable(value) and not name.startswith("_") and name not in _NOT_RECORDED)
# Arguments of the fused optimizer updates that change from step to step on the host (the
# learning rate a schedule or callback sets, the step count): bound to host-value slots.
HOST_ARGUMENTS = {"sgd_update": {"learning_rate": "learning_rate"},
                  "adam_update": {"learning_rate": "learning_rate", "step": "step"},
                  "rmsprop_update": {"learning_rate": "learning_rate"}}
_PARAMETERS = {name: list(inspect.signature(getattr(Backend, name)).parameters)[1:]
               for name in HOST_ARGUMENTS}
# Immutable scalars are literals, never results (their ids are shared and reused).
_LITERALS = (int, float, bool, str, bytes, type(None), slice, np.generic, np.dtype)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Untraceable(Exception):
    """Raised (with `jit_compile=True`) where a step does something a plan cannot replay."""


class Call:
    """One recorded primitive call: `getattr(backend, name)(*args, **kwargs)` -> `out`."""

    __slots__ = ("name", "args", "kwargs", "out")

    def __init__(self, name, args, kwargs, out):
        self.name, self.args, self.kwargs, self.out = name, args, kwargs, out


class Recording:
    """Context manager: notes the primitive calls one step makes on `backend`.

    Args:
        backend: the backend object the step runs on.
        inputs: the step's input arrays (the batch), in a fixed order; they become slots
            0..len(inputs)-1.
        host_values: `{name: value}` for the per-step host values (see HOST_ARGUMENTS) that
            follow inputs as slots.
        strict: raise `Untraceable` at a read-back (`jit_compile=True`) instead of noting it.
    """

    def __init__(self, backend, inputs, host_values, strict):
        self.backend = backend
        self.calls = []
        self.untraceable = None
        self._strict = strict
        self._host_values = dict(host_values)
        self._host_slots = {name: len(inputs) + i for i, name in enumerate(self._host_values)}
        self.slot_count = len(inputs) + len(self._host_values)
        self._slots = {id(a): i for i, a in enumerate(inputs)}
        # Everything a slot refers to stays alive while recording, so that ids stay unique.
        self._alive = list(inputs)
        self._draws = {}
        self._depth = 0

    # -- instrumenting the backend -----------------------------------------------------------
    def __enter__(self):
        for name in PRIMITIVES:
            setattr(self.backend, name, self._wrap(name, getattr(self.backend, name)))
        self.backend.to_numpy = self._readback(self.backend.to_numpy)
        random_state.draw_watchers.append(self._note_draw)
        return self

    def __exit__(self, *exc):
        random_state.draw_watchers.remove(self._note_draw)
        for name in PRIMITIVES + ("to_numpy",):
            self.backend.__dict__.pop(name, None)
        self._alive = self._draws = None

    def _wrap(self, name, method):
        def recorded(*args, **kwargs):
            if self._depth:
                return method(*args, **kwargs)
            self._depth += 1
            try:
                out = method(*args, **kwargs)
            finally:
                self._depth -= 1
            self._note(name, args, kwargs, out)
            return out

        return recorded

    def _readback(self, to_numpy):
        def read(x):
            if not self._depth and self.untraceable is None:
                reason = ("the step reads a tensor's value on the host (`.numpy()`, `float()`, "
                          f"`int()`, `bool()` or NumPy conversion) at {_caller()}: Python may "
                          "branch on it, which a traced step cannot replay")
                if self._strict:
                    raise Untraceable(reason)
                self.untraceable = reason
            return to_numpy(x)

        return read

    def _note_draw(self, values, draw):
        self._alive.append(values)
        self._draws[id(values)] = draw

    # -- specs -------------------------------------------------------------------------------
    def _note(self, name, args, kwargs, out):
        arg_specs = [self._spec(a) for a in args]
        kwarg_specs = {k: self._spec(v) for k, v in kwargs.items()}
        for parameter, host_name in HOST_ARGUMENTS.get(name, {}).items():
            index = _PARAMETERS[name].index(parameter)
            specs, key = (arg_specs, index) if index < len(args) else (kwarg_specs, parameter)
            if specs is kwarg_specs and key not in specs:
                continue
            kind, value = specs[key]
            if kind == CONST and isinstance(value, (int, float)) and \
                    value == self._host_values.get(host_name):
                specs[key] = (SLOT, self._host_slots[host_name])
        self.calls.append(Call(name, arg_specs, kwarg_specs, self._register(out)))

    def _spec(self, value):
        if isinstance(value, (list, tuple)):
            return (SEQ, (type(value), [self._spec(v) for v in value]))
        if isinstance(value, _LITERALS):
            return (CONST, value)
        slot = self._slots.get(id(value))
        if slot is not None:
            return (SLOT, slot)
        draw = self._draws.get(id(value))
        if draw is not None:
            return (DRAW, draw)
        return (CONST, value)

    def _register(self, out):
        """Slots for a call's result (each array / opaque leaf of a tuple gets one)."""
        if isinstance(out, (list, tuple)):
            return (SEQ, (type(out), [self._register(v) for v in out]))
        if isinstance(out, _LITERALS):
            return None
        self._alive.append(out)
        self._slots[id(out)] = self.slot_count
        self.slot_count += 1
        return self.slot_count - 1

    def spec_of(self, value):
        """Where a value the step returns comes from (a tensor's array, or a literal)."""
        return self._spec(value)


def _caller():
    """`file:line` of the innermost frame outside webkeras's backend, ops and tensor code
    (the line that read the value back)."""
    frame = sys._getframe(2)
    inner = (os.path.join(_PACKAGE_DIR, "backend"), os.path.join(_PACKAGE_DIR, "ops"))
    while frame is not None and frame.f_code.co_filename.startswith(inner):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"
