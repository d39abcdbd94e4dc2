"""Reverse-mode autodiff: `GradientTape` and the per-op gradient record.

Each primitive op calls `record(out, inputs, vjp)`. While a tape is active and an input is being
tracked, the output keeps a `Node` (its inputs and a VJP closure written with ops), so the graph
lives exactly as long as the tensors that hold it. `GradientTape.gradient` walks the graph from
the target back to the sources.
"""

from webkeras.backend.tensor import Tensor, Variable
from webkeras.utils import tree

_active_tapes = []
_paused = [0]


class Node:
    """How `out` was made: its inputs, which of them need gradients, and the VJP.

    A VJP returns one entry per input: a tensor, None, or a zero-argument callable that is
    only evaluated when that input needs a gradient (so matmul skips d/d(data)).
    """

    __slots__ = ("inputs", "needs_grad", "vjp")

    def __init__(self, inputs, needs_grad, vjp):
        self.inputs = inputs
        self.needs_grad = needs_grad
        self.vjp = vjp


def _is_tracked(x):
    if x._node is not None:
        return True
    for tape in _active_tapes:
        if id(x) in tape._watched:
            return True
        if tape._watch_accessed and isinstance(x, Variable) and x.trainable:
            return True
    return False


def record(out, inputs, vjp):
    """Attach a gradient record to `out` when a tape is watching any of `inputs`."""
    if _active_tapes and not _paused[0]:
        needs_grad = tuple(_is_tracked(x) for x in inputs)
        if any(needs_grad):
            out._node = Node(tuple(inputs), needs_grad, vjp)
    return out


class stop_recording:
    """Context manager: ops inside are not recorded by any active tape."""

    def __enter__(self):
        _paused[0] += 1

    def __exit__(self, *exc):
        _paused[0] -= 1


class GradientTape:
    """Records ops for automatic differentiation, as `tf.GradientTape` does.

    Example:
    ```python
    with keras.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    ```
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._watched = {}
        self._used = False
        self._recording = False

    def __enter__(self):
        _active_tapes.append(self)
        self._recording = True
        return self

    def __exit__(self, *exc):
        _active_tapes.remove(self)
        self._recording = False

    def watch(self, tensor):
        """Track a tensor (or nested structure of tensors) that is not a trainable variable."""
        for t in tree.flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError(
                    f"GradientTape.watch expects tensors, received {type(t).__name__}. "
                    "Convert it first with keras.ops.convert_to_tensor."
                )
            self._watched[id(t)] = t

    def stop_recording(self):
        return stop_recording()

    def gradient(self, target, sources, output_gradients=None):
        """d(sum of target) / d(each source); sources may be any nested structure.

        Returns None for a source the target does not depend on, as TensorFlow does.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients. Use GradientTape(persistent=True) to call gradient() again."
            )
        if self._recording and not self.persistent:
            raise RuntimeError(
                "GradientTape.gradient() was called inside the tape's `with` block. "
                "Call it after the block ends (or use persistent=True)."
            )
        self._used = True
        from webkeras import ops

        with stop_recording():
            targets = tree.flatten(target)
            seeds = (
                tree.flatten(output_gradients)
                if output_gradients is not None
                else [ops.ones_like(t) for t in targets]
            )
            grads = backpropagate(targets, seeds)
            flat = [grads.get(id(s)) for s in tree.flatten(sources)]
        if not self.persistent:
            self._watched = {}
        return tree.pack_sequence_as(sources, flat)


def _topological_order(targets):
    order, seen = [], set()
    for root in targets:
        stack = [(root, False)]
        while stack:
            t, expanded = stack.pop()
            if expanded:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            if t._node is not None:
                stack.extend((p, False) for p in t._node.inputs if id(p) not in seen)
    return order


class SliceGradient:
    """A slice's VJP, `values` at `slices` of zeros of `shape`, kept sparse until its tensor
    is reached: the slices an RNN takes of its input (x[:, t] for every step) are then joined
    by one concatenate instead of each being padded to the input's full size (T^2 work)."""

    __slots__ = ("shape", "slices", "values")

    def __init__(self, values, shape, slices):
        self.values, self.shape, self.slices = values, tuple(shape), tuple(slices)

    def position(self):
        """(axis, index) when this is one index of one axis, full elsewhere; else None."""
        picked = [(axis, s) for axis, (s, d) in enumerate(zip(self.slices, self.shape))
                  if s.indices(d) != (0, d, 1)]
        if len(picked) != 1:
            return None
        axis, s = picked[0]
        start, stop, step = s.indices(self.shape[axis])
        return (axis, start) if len(range(start, stop, step)) == 1 else None


def _join(pieces):
    """The dense sum of `SliceGradient`s of one tensor."""
    from webkeras import ops

    positions = [piece.position() for piece in pieces]
    axes = {p[0] for p in positions if p is not None}
    if None in positions or len(axes) != 1:
        total = None
        for piece in pieces:
            dense = ops.slice_scatter(piece.values, piece.shape, piece.slices)
            total = dense if total is None else total + dense
        return total
    (axis,) = axes
    by_index = {}
    for (_, index), piece in zip(positions, pieces):
        by_index[index] = piece.values if index not in by_index else by_index[index] + piece.values
    gap = ops.zeros_like(pieces[0].values)
    return ops.concatenate([by_index.get(i, gap) for i in range(pieces[0].shape[axis])], axis)


def backpropagate(targets, seeds):
    """Accumulate gradients from `targets` (seeded with `seeds`) -> {id(tensor): gradient}."""
    grads, sliced = {}, {}

    def add(key, g):
        if isinstance(g, SliceGradient):
            sliced.setdefault(key, []).append(g)
        else:
            grads[key] = grads[key] + g if key in grads else g

    def collect(key):
        pieces = sliced.pop(key, None)
        if pieces:
            add(key, _join(pieces))
        return grads.get(key)

    for t, g in zip(targets, seeds):
        add(id(t), g)
    for t in reversed(_topological_order(targets)):
        g = collect(id(t))
        if g is None or t._node is None:
            continue
        node = t._node
        for parent, needed, pg in zip(node.inputs, node.needs_grad, node.vjp(g)):
            if pg is None or not needed:
                continue
            if callable(pg):
                pg = pg()
            add(id(parent), pg)
    for key in list(sliced):
        collect(key)
    return grads
