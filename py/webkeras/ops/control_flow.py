"""Control flow (keras.ops names): cond, switch, while_loop, fori_loop, scan, map,
vectorized_map, associative_scan, custom_gradient.

webkeras runs eagerly, so these are plain Python loops and branches over ops: gradients flow
through whatever ops the chosen branch or the loop body ran. They keep Keras's signatures so
code written for `jit_compile`d backends runs unchanged.
"""

import builtins
import functools

from webkeras.ops.array import getitem, moveaxis, stack
from webkeras.ops.core import convert_to_tensor
from webkeras.ops.numpy import zeros_like
from webkeras.ops.tape import record, stop_recording
from webkeras.ops.tensor import Tensor
from webkeras.utils import tree


def cond(pred, true_fn, false_fn):
    """true_fn() if `pred` else false_fn() (`pred` a Python bool or a scalar tensor)."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """branches[index](*operands), with `index` clipped into range (as Keras does)."""
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` (a tuple/list of loop
    variables is unpacked into the calls; a single one is passed as is).

    Example:
    >>> keras.ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0)  # 10
    """
    is_sequence = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_sequence else (loop_vars,)
    state = tree.map_structure(_as_tensor, state)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        count += 1
    return state if is_sequence else state[0]


def _as_tensor(x):
    return x if isinstance(x, Tensor) or x is None else convert_to_tensor(x)


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for i in range(lower, upper), i a Python int."""
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def _stack_leaves(results):
    """A list of like-structured outputs -> one structure of stacked tensors."""
    if not results:
        return None
    flat = [tree.flatten(r) for r in results]
    stacked = [None if column[0] is None else stack(list(column), axis=0)
               for column in zip(*flat)]
    return tree.pack_sequence_as(results[0], stacked)


def _length(xs, length):
    leaves = [x for x in tree.flatten(xs)] if xs is not None else []
    if leaves:
        return convert_to_tensor(leaves[0]).shape[0]
    if length is None:
        raise ValueError("scan: pass `xs` or `length`.")
    return int(length)


def _slice(xs, i):
    return tree.map_structure(lambda x: getitem(convert_to_tensor(x), i), xs)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop `carry, y = f(carry, x)` over the leading axis of `xs`; returns (final carry,
    the ys stacked along a new leading axis), as `jax.lax.scan`."""
    n = _length(xs, length)
    carry, ys = init, []
    for i in (reversed(range(n)) if reverse else range(n)):
        carry, y = f(carry, None if xs is None else _slice(xs, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _stack_leaves(ys)


def map(f, xs):
    """f applied to each slice of `xs` along its leading axis, results stacked."""
    return _stack_leaves([f(_slice(xs, i)) for i in range(_length(xs, None))])


def vectorized_map(function, elements):
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with the associative `f`: out_i = f(out_(i-1), elems_i) along `axis`."""
    leaves = [convert_to_tensor(x) for x in tree.flatten(elems)]
    n = leaves[0].shape[axis]
    moved = [_move_to_front(x, axis) for x in leaves]
    order = list(reversed(range(n))) if reverse else list(range(n))
    outputs, carry = [], None
    for i in order:
        current = tree.pack_sequence_as(elems, [getitem(x, i) for x in moved])
        carry = current if carry is None else f(carry, current)
        outputs.append(carry)
    if reverse:
        outputs.reverse()
    stacked = _stack_leaves(outputs)
    return tree.map_structure(lambda x: _move_from_front(x, axis), stacked)


def _move_to_front(x, axis):
    return moveaxis(x, axis, 0)


def _move_from_front(x, axis):
    return moveaxis(x, 0, axis)


def custom_gradient(f):
    """Decorator: `f(*args)` returns `(output, grad_fn)`; the tape then uses
    `grad_fn(upstream)` (one gradient per tensor argument) instead of differentiating f.

    Example:
    ```python
    @keras.ops.custom_gradient
    def clip_gradient(x):
        def grad(upstream):
            return keras.ops.clip(upstream, -1.0, 1.0)
        return x * 1.0, grad
    ```
    """

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        with stop_recording():
            output, grad_fn = f(*args, **kwargs)
        inputs = [a for a in tree.flatten(args) if isinstance(a, Tensor)]
        # Fresh tensors (no record from inside f) that the tape sees as made from `inputs`.
        results = [Tensor(o.data, o.backend)
                   for o in (convert_to_tensor(o) for o in tree.flatten(output))]

        def vjp_for(k):
            def vjp(g, needs):
                # grad_fn is linear in its upstream gradients: the other outputs' share
                # arrives through their own records.
                upstream = [g if j == k else zeros_like(r) for j, r in enumerate(results)]
                grads = grad_fn(*upstream)
                grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
                return grads + (None,) * (len(inputs) - len(grads))

            return vjp

        for k, result in enumerate(results):
            record(result, inputs, vjp_for(k))
        return tree.pack_sequence_as(output, results)

    return wrapper
