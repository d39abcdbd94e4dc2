"""Finite-difference checks of every differentiable op's VJP (NumPy backend, float64)."""

import numpy as np
import pytest

from webkeras import ops
from webkeras.ops.tape import GradientTape
from webkeras.testing.gradients import check_gradients


pytestmark = pytest.mark.usefixtures("numpy_backend")


rng = np.random.default_rng(42)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


BINARY_CASES = [
    ("add", ops.add),
    ("subtract", ops.subtract),
    ("multiply", ops.multiply),
    ("divide", lambda a, b: ops.divide(a, b + 3.0)),
    ("maximum", ops.maximum),
    ("minimum", ops.minimum),
    ("power", lambda a, b: ops.power(ops.abs(a) + 0.5, b)),
]


@pytest.mark.parametrize("name,fn", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
@pytest.mark.parametrize(
    "shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 3))])
def test_binary_gradients(name, fn, shapes):
    check_gradients(fn, r(*shapes[0]), r(*shapes[1]))


UNARY_CASES = [
    ("negative", ops.negative, {}),
    ("exp", ops.exp, {}),
    ("log", ops.log, {"low": 0.2}),
    ("sqrt", ops.sqrt, {"low": 0.2}),
    ("square", ops.square, {}),
    ("abs", ops.abs, {}),
    ("reciprocal", ops.reciprocal, {"low": 0.5}),
    ("tanh", ops.tanh, {}),
    ("relu", ops.relu, {}),
    ("sigmoid", ops.sigmoid, {}),
    ("softmax", ops.softmax, {}),
    ("log_softmax", ops.log_softmax, {}),
    ("clip", lambda x: ops.clip(x, -0.5, 0.7), {}),
    ("cast", lambda x: ops.cast(x, "float32") * 1.0, {}),
]


@pytest.mark.parametrize("name,fn,kw", UNARY_CASES, ids=[c[0] for c in UNARY_CASES])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 5)])
def test_unary_gradients(name, fn, kw, shape):
    x = r(*shape, **kw)
    if name in ("relu", "abs", "clip"):
        # Keep finite differences away from the kinks.
        x = np.where(np.abs(x) < 0.05, 0.3, x)
        x = np.where(np.abs(x + 0.5) < 0.05, 0.3, x)
        x = np.where(np.abs(x - 0.7) < 0.05, 0.3, x)
    if name == "cast":
        # float64 -> float32 -> float64 loses precision: compare at float32 tolerance.
        tensors = ops.convert_to_tensor(x)
        with GradientTape() as tape:
            tape.watch(tensors)
            loss = ops.sum(ops.cast(fn(tensors), "float64") * 2.0)
        np.testing.assert_allclose(tape.gradient(loss, tensors).numpy(), 2.0 * np.ones(shape))
        return
    check_gradients(fn, x)


REDUCE_CASES = [
    ("sum", ops.sum),
    ("mean", ops.mean),
    ("max", ops.max),
    ("min", ops.min),
]


@pytest.mark.parametrize("name,fn", REDUCE_CASES, ids=[c[0] for c in REDUCE_CASES])
@pytest.mark.parametrize(
    "axis,keepdims", [(None, False), (0, False), (-1, True), ((0, 2), False), (1, True)])
def test_reduce_gradients(name, fn, axis, keepdims):
    check_gradients(lambda x: fn(x, axis=axis, keepdims=keepdims), r(3, 4, 5))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((2, 3, 4), (2, 4, 3)),
                                    ((4,), (4, 3)), ((3, 4), (4,)), ((1, 1), (1, 1))])
def test_matmul_gradients(shapes):
    check_gradients(ops.matmul, r(*shapes[0]), r(*shapes[1]))


SHAPE_CASES = [
    ("reshape", lambda x: ops.reshape(x, (4, -1))),
    ("transpose", lambda x: ops.transpose(x, (2, 0, 1))),
    ("transpose_default", ops.transpose),
    ("swapaxes", lambda x: ops.swapaxes(x, 0, 2)),
    ("broadcast_to", lambda x: ops.broadcast_to(ops.sum(x, axis=1, keepdims=True), (3, 6, 2, 2))),
    ("expand_dims", lambda x: ops.expand_dims(x, 1)),
    ("squeeze", lambda x: ops.squeeze(ops.expand_dims(x, 0), 0)),
]


@pytest.mark.parametrize("name,fn", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_shape_gradients(name, fn):
    check_gradients(fn, r(3, 2, 2) if name != "broadcast_to" else r(3, 4, 2, 2))


def test_where_gradient():
    condition = r(3, 4) > 0
    check_gradients(lambda a, b: ops.where(ops.convert_to_tensor(condition), a, b),
                    r(3, 4), r(4))


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_gradient(from_logits):
    labels = ops.convert_to_tensor(np.array([0, 2, 1, 2]))
    logits = r(4, 3)

    def loss(x):
        output = x if from_logits else ops.softmax(x)
        return ops.sparse_categorical_crossentropy(labels, output, from_logits=from_logits)

    check_gradients(loss, logits)


def test_categorical_and_binary_crossentropy_gradients():
    onehot = ops.convert_to_tensor(np.eye(3)[[0, 2, 1, 1]])
    check_gradients(lambda x: ops.categorical_crossentropy(onehot, ops.softmax(x)), r(4, 3))
    targets = ops.convert_to_tensor(np.array([[0.0, 1.0], [1.0, 0.0]]))
    check_gradients(lambda x: ops.binary_crossentropy(targets, x, from_logits=True), r(2, 2))
    check_gradients(lambda x: ops.binary_crossentropy(targets, ops.sigmoid(x)), r(2, 2))


def test_gradient_of_unconnected_source_is_none():
    a, b = ops.convert_to_tensor(r(2)), ops.convert_to_tensor(r(2))
    with GradientTape() as tape:
        tape.watch([a, b])
        loss = ops.sum(a * 2.0)
    grad_a, grad_b = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(grad_a.numpy(), [2.0, 2.0])
    assert grad_b is None


def test_persistent_tape_and_reuse_errors():
    x = ops.convert_to_tensor(r(3))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.sum(ops.square(x))
    first = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), first)
    with GradientTape() as once:
        once.watch(x)
        y = ops.sum(x)
    once.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        once.gradient(y, x)


def test_nested_sources_keep_structure():
    a, b = ops.convert_to_tensor(r(2)), ops.convert_to_tensor(r(3))
    with GradientTape() as tape:
        tape.watch([a, b])
        loss = ops.sum(a) + ops.sum(b * b)
    grads = tape.gradient(loss, {"a": a, "inner": [b]})
    assert set(grads) == {"a", "inner"} and isinstance(grads["inner"], list)
    np.testing.assert_allclose(grads["inner"][0].numpy(), 2 * b.numpy())


def test_trainable_variables_are_watched_automatically():
    import webkeras as keras

    v = keras.Variable(np.array([1.0, 2.0], dtype="float32"))
    frozen = keras.Variable(np.array([3.0], dtype="float32"), trainable=False)
    with GradientTape() as tape:
        loss = ops.sum(v * v) + ops.sum(frozen)
    grad_v, grad_frozen = tape.gradient(loss, [v, frozen])
    np.testing.assert_allclose(grad_v.numpy(), [2.0, 4.0])
    assert grad_frozen is None
