"""Reverse-mode autodiff: `GradientTape` and the per-op gradient record.

Each primitive op calls `record(out, inputs, vjp)`. While a tape is active and an input is being
tracked, the output keeps a `Node` (its inputs and a VJP closure written with ops), so the graph
lives exactly as long as the tensors that hold it. `GradientTape.gradient` walks the graph from
the target back to the sources.

One convention for every primitive: `vjp(g, needs)` takes the output's gradient and a tuple of
bools (which inputs need a gradient) and returns one entry per input: a tensor, None, or a
`DeferredGradient` (a slice's, kept sparse). It computes only the entries that are needed.
"""

from webkeras.ops.tensor import Tensor, Variable
from webkeras.utils import tree

_active_tapes = []
_paused = [0]


class Node:
    """How `out` was made: its inputs, which of them need gradients, and the VJP."""

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


class DeferredGradient:
    """A gradient kept in a cheaper form than a dense tensor until every piece of one tensor's
    gradient has arrived. A subclass's `dense_sum(pieces)` (a classmethod) gives the pieces'
    dense sum; the tape calls it once per tensor, before that tensor's own VJP runs."""

    __slots__ = ()

    @classmethod
    def dense_sum(cls, pieces):
        raise NotImplementedError


def backpropagate(targets, seeds):
    """Accumulate gradients from `targets` (seeded with `seeds`) -> {id(tensor): gradient}."""
    grads, deferred = {}, {}

    def add(key, g):
        if isinstance(g, DeferredGradient):
            deferred.setdefault(key, []).append(g)
        else:
            grads[key] = grads[key] + g if key in grads else g

    def collect(key):
        pieces = deferred.pop(key, None)
        if pieces:
            add(key, type(pieces[0]).dense_sum(pieces))
        return grads.get(key)

    for t, g in zip(targets, seeds):
        add(id(t), g)
    for t in reversed(_topological_order(targets)):
        g = collect(id(t))
        if g is None or t._node is None:
            continue
        node = t._node
        for parent, needed, pg in zip(node.inputs, node.needs_grad, node.vjp(g, node.needs_grad)):
            if needed and pg is not None:
                add(id(parent), pg)
    for key in list(deferred):
        collect(key)
    return grads
