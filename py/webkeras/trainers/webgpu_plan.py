"""Traced steps on the WebGPU backend: a step plan replayed as one command buffer, one submit.

A `Plan` (step_plan.py) replays a step as backend primitive calls; on WebGPU each call would
still render, plan and queue its kernels from Python. A `DevicePlan` runs the plan once more
with the backend's commands captured (`backend.capture()`): every dispatch (pipeline, uniform
bytes, arrays, workgroup counts) and copy of the step, against arrays that the capture keeps
alive, so each intermediate keeps its own device buffer and variables are their own buffers.
Those commands become a driver program with its bind groups and uniforms made once; a
replayed step copies the batch into the plan's input buffers, uploads what changes per step
(`queue.writeBuffer`) and encodes the whole program into one command buffer, one submit.

What changes per step is found per call:
- a call taking a host value (the optimizer update's learning rate and step count) or a host
  draw (Dropout's mask uploads) is *live*: at each replay it runs again with the capture not
  forwarding anything, and the uniform bytes / upload it produces are written into the
  program's own uniform / buffer for that command;
- a call that reads the device back (the host path: convolution and pooling on software
  adapters) is a *host step*: the program is split there, and the call runs between two
  submits, its result copied into the buffer the rest of the program reads.
The step's returned tensors are copied out of the plan's buffers at the end of the submit, so
they stay valid after the next replay; reading them (the logs) is the only readback.
"""

import numpy as np

from webkeras.ops import core
from webkeras.trainers.plan_fusion import fuse_elementwise_chains
from webkeras.trainers.plan_recording import DRAW, SEQ, SLOT
from webkeras.utils import tree

ITEMSIZE = 4


class NotCapturable(Exception):
    """A plan whose commands cannot become a program (it replays call by call instead)."""


def device_plan(plan, backend):
    """`plan` replayed as a device program where `backend` can capture its commands."""
    return DevicePlan(plan, backend) if hasattr(backend, "capture") else plan


class _LiveCall:
    """A call re-run at each replay for the uniforms / uploads its host arguments change."""

    def __init__(self, fn, arg_specs, kwarg_specs, args, kwargs, commands):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.arg_specs, self.kwarg_specs = arg_specs, kwarg_specs
        self.commands = commands
        self.uniforms = {}  # index in commands -> (plan-owned uniform handle, bytes in it)

    def argument(self, spec, value, host_values):
        kind, payload = spec
        if kind == DRAW:
            return payload()
        if kind == SLOT and payload in host_values:
            return host_values[payload]
        return value

    def writes(self, backend, host_values):
        """(handle, data) uploads that bring this call's commands up to date."""
        args = [self.argument(s, v, host_values) for s, v in zip(self.arg_specs, self.args)]
        kwargs = {k: self.argument(self.kwarg_specs[k], v, host_values)
                  for k, v in self.kwargs.items()}
        with backend.capture(forward=False) as capture:
            self.fn(*args, **kwargs)
        if [c[0] for c in capture.commands] != [c[0] for c in self.commands]:
            raise NotCapturable("a live call's commands changed between steps")
        out = []
        for index, (recorded, fresh) in enumerate(zip(self.commands, capture.commands)):
            if recorded[0] == "dispatch":
                handle, data = self.uniforms[index]
                if fresh[2] != data:
                    self.uniforms[index] = (handle, fresh[2])
                    out.append((handle, np.frombuffer(fresh[2], np.uint8)))
            elif recorded[0] == "write":
                out.append((recorded[1].handle, fresh[2]))
        return out


class _HostStep:
    """A call that reads back: run between two submits, its result copied into `out`."""

    def __init__(self, fn, args, kwargs, out):
        self.fn, self.args, self.kwargs, self.out = fn, args, kwargs, out

    def run(self, commands):
        result = self.fn(*self.args, **self.kwargs)
        if self.out.size:
            commands.copy(result, self.out, self.out.size * ITEMSIZE)


class DevicePlan:
    """`plan` (a step_plan.Plan) replayed as driver programs on `backend` (WebGPU)."""

    def __init__(self, plan, backend):
        # One dispatch per element-wise chain (bias + activation, an activation's gradient).
        plan.calls = fuse_elementwise_chains(plan.calls, backend, plan.output_specs)
        self.plan, self.backend = plan, backend
        self.input_count = None
        self._built = None

    # The replay loop (StepPlans.run) reads and sets these on the plan it holds.
    @property
    def step_delta(self):
        return self.plan.step_delta

    @property
    def learning_rate_guard(self):
        return self.plan.learning_rate_guard

    @learning_rate_guard.setter
    def learning_rate_guard(self, value):
        self.plan.learning_rate_guard = value

    def replay(self, inputs, host_values):
        built = self._built
        if built is False:
            return self.plan.replay(inputs, host_values)
        if built is not None and built.covers(inputs):
            try:
                return built.run(inputs, host_values)
            except NotCapturable:
                self._built = False
                return self.plan.replay(inputs, host_values)
        # First replay, or int inputs past the index ranges the build's bounds checks saw:
        # (re)build, which runs this step.
        if _nested_draw(self.plan):
            self._built = False
            return self.plan.replay(inputs, host_values)
        self._built = None
        program = _Program(self.backend, inputs, built.ranges if built else None)
        ok, result = program.build(self.plan, inputs, host_values)
        self._built = program if ok else False
        return result


class _Program:
    """The built form of a `DevicePlan`: fixed input buffers, segments, outputs."""

    def __init__(self, backend, inputs, ranges):
        self.backend = backend
        self.inputs = [backend.empty(x.shape, x.dtype) for x in inputs]
        self.ranges = [_union(x.buffer.known_range, old)
                       for x, old in zip(inputs, ranges or [None] * len(inputs))]
        for fixed, known in zip(self.inputs, self.ranges):
            fixed.buffer.known_range = known
        self.segments = []
        self.live = []
        self.outputs = None
        self.structure = None
        self._uniforms = {}
        self._owned_uniforms = []
        self._host_slots = {}

    def covers(self, inputs):
        """Whether int inputs stay in the index ranges the build's bounds checks saw."""
        for x, known in zip(inputs, self.ranges):
            if known is not None:
                new = x.buffer.known_range
                if new is None or new[0] < known[0] or new[1] > known[1]:
                    return False
        return True

    def build(self, plan, inputs, host_values):
        """Runs the step on `inputs` with its commands captured and segments them -> (whether
        they make a program, the step's result)."""
        backend = self.backend
        for x, fixed in zip(inputs, self.inputs):
            if x.size:
                backend.commands.copy(x, fixed, x.size * ITEMSIZE)
        host_names = plan.host_names
        self._host_slots = {len(inputs) + i: name for i, name in enumerate(host_names)}
        notes = []
        with backend.capture() as capture:
            marked = _marked(plan, capture, notes)
            result = marked.replay(self.inputs, host_values)
        self.structure = result
        self.outputs = [leaf.data if core.is_tensor(leaf) else None
                        for leaf in tree.flatten(result)]
        result = self._copy_outputs(result, backend.commands.copy)
        try:
            self._segment(plan, capture.commands, notes)
        except NotCapturable:
            return False, result
        return True, result

    def __del__(self):
        try:
            driver = self.backend.driver
            for segment in self.segments:
                if isinstance(segment, _Segment):
                    driver.destroy_program(segment.program)
            for handle in self._owned_uniforms:
                driver.destroy_uniform(handle)
        except Exception:  # interpreter shutdown: the device is going away anyway
            pass

    def _segment(self, plan, commands, notes):
        program = []
        for index, start, end, reads, args, kwargs, out in notes:
            fn, arg_specs, kwarg_specs, _ = plan.calls[index]
            kwarg_specs = kwarg_specs or {}
            specs = list(arg_specs) + list(kwarg_specs.values())
            live = any(k == DRAW or (k == SLOT and p in self._host_slots) for k, p in specs)
            if reads:
                if live or not hasattr(out, "buffer"):
                    raise NotCapturable(f"`{fn.__name__}` reads back and returns no one array")
                if program:
                    self.segments.append(self._program(program))
                self.segments.append(_HostStep(fn, args, kwargs, out))
                program = []
                continue
            own = commands[start:end]
            if live:
                call = _LiveCall(fn, arg_specs, kwarg_specs, args, kwargs, own)
                for i, command in enumerate(own):
                    if command[0] == "dispatch":
                        # Its own uniform: rewritten when the host values change it.
                        handle = self.backend.driver.create_uniform(command[2])
                        self._owned_uniforms.append(handle)
                        call.uniforms[i] = (handle, command[2])
                self.live.append(call)
                program.extend((c, call.uniforms.get(i, (None,))[0]) for i, c in enumerate(own)
                               if c[0] != "write")
            else:
                program.extend((c, None) for c in own if c[0] != "write")
        self.segments.append(self._program(program))

    def _program(self, commands):
        driver, encoded = self.backend.driver, []
        for command, uniform in commands:
            if command[0] == "dispatch":
                _, pipeline, data, arrays, groups = command
                if uniform is None:
                    uniform = self._uniforms.get(data)
                    if uniform is None:
                        uniform = self._uniforms[data] = driver.create_uniform(data)
                        self._owned_uniforms.append(uniform)
                encoded.append(("dispatch", pipeline, uniform, [a.handle for a in arrays],
                                groups))
            elif command[3]:
                _, src, dst, nbytes = command
                encoded.append(("copy", src.handle, dst.handle, nbytes))
        # The arrays stay alive with the plan: their buffers are the program's.
        return _Segment(driver.create_program(encoded), commands)

    def _copy_outputs(self, result, copy):
        leaves = []
        for leaf, array in zip(tree.flatten(result), self.outputs):
            if array is None:
                leaves.append(leaf)
                continue
            fresh = self.backend.empty(array.shape, array.dtype)
            if array.size:
                copy(array, fresh, array.size * ITEMSIZE)
            leaves.append(core.make(fresh))
        return tree.pack_sequence_as(self.structure, leaves)

    def run(self, inputs, host_values):
        backend, driver = self.backend, self.backend.driver
        values = {slot: host_values[name] for slot, name in self._host_slots.items()}
        writes = [write for call in self.live for write in call.writes(backend, values)]
        for x, fixed in zip(inputs, self.inputs):
            if x.size:
                backend.commands.copy(x, fixed, x.size * ITEMSIZE)
        copies = []

        def queue_copy(src, dst, nbytes):
            copies.append((src.handle, dst.handle, nbytes))

        last = len(self.segments) - 1
        result = None
        for index, segment in enumerate(self.segments):
            if isinstance(segment, _HostStep):
                segment.run(backend.commands)
                continue
            if index == last:
                result = self._copy_outputs(self.structure, queue_copy)
            driver.run_program(segment.program, writes, copies)
            writes = []
        return result


class _Segment:
    __slots__ = ("program", "commands")

    def __init__(self, program, commands):
        self.program, self.commands = program, commands


def _marked(plan, capture, notes):
    """A shallow copy of `plan` whose calls note where their commands start and end."""
    marked = object.__new__(type(plan))
    marked.__dict__.update(plan.__dict__)

    def mark(index, fn):
        def call(*args, **kwargs):
            start, reads = len(capture.commands), capture.reads
            out = fn(*args, **kwargs)
            notes.append((index, start, len(capture.commands), capture.reads - reads,
                          args, kwargs, out))
            return out

        call.__name__ = getattr(fn, "__name__", "call")
        return call

    marked.calls = [(mark(i, fn), args, kwargs, out)
                    for i, (fn, args, kwargs, out) in enumerate(plan.calls)]
    return marked


def _nested_draw(plan):
    """Whether a host draw hides in a list argument (a live call rewrites only top-level
    ones)."""
    def nested(kind, payload):
        return kind == SEQ and any(k == DRAW or nested(k, p) for k, p in payload[1])

    return any(nested(*spec) for _, args, kwargs, _ in plan.calls
               for spec in list(args) + list((kwargs or {}).values()))


def _union(a, b):
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), max(a[1], b[1]))
