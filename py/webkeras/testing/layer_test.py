"""`run_layer_test`: one harness that checks a layer's contract in a few lines per layer."""

import os
import tempfile

import numpy as np

from webkeras import backend, ops
from webkeras.layers import Input
from webkeras.models import Model
from webkeras.ops.tape import GradientTape
from webkeras.saving import load_model
from webkeras.utils import tree

# One WebGPU backend (one device) for every parity pass in a process: a device per layer test
# would cost more than the tests.
_webgpu = None


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   check_gradients=True, seed=0, input_data=None, call_kwargs=None,
                   input_dtype="float32", rtol=1e-5, inputs_as_args=False, check_webgpu=True):
    """Builds `layer_cls(**init_kwargs)` and checks, on the NumPy backend (the backend that was
    active before comes back afterwards):

    - the output shape(s), eagerly and symbolically (`compute_output_shape` / `keras.Input`);
    - the number of trainable and non-trainable weights;
    - that `from_config(get_config())` gives the same config and, with the same weights, the
      same output;
    - that a model of it saved to `.keras` loads back and gives the same output;
    - that the WebGPU backend gives the same output with the same weights (`check_webgpu`;
      skipped where wgpu has no adapter);
    - the gradients of the output with respect to the (float) inputs and every trainable
      weight, against central differences in float64.

    `input_shape` is one shape or a list of shapes (multi-input layers such as merges);
    `input_data` replaces the random inputs; `call_kwargs` go to every call;
    `inputs_as_args` passes several inputs positionally (`layer(query, value)`).
    """
    with backend.backend_scope("numpy"):
        return _run_layer_test(
            layer_cls, init_kwargs, input_shape, expected_output_shape,
            expected_num_trainable_weights, expected_num_non_trainable_weights, check_gradients,
            seed, input_data, call_kwargs, input_dtype, rtol, inputs_as_args, check_webgpu)


def _run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                    expected_num_trainable_weights, expected_num_non_trainable_weights,
                    check_gradients, seed, input_data, call_kwargs, input_dtype, rtol,
                    inputs_as_args, check_webgpu):
    rng = np.random.default_rng(seed)
    call_kwargs = call_kwargs or {}
    multi = isinstance(input_shape, list)
    shapes = input_shape if multi else [input_shape]
    if input_data is None:
        xs = [_random_input(rng, s, input_dtype) for s in shapes]
    else:
        xs = [np.asarray(a) for a in (input_data if multi else [input_data])]
    def call(layer, inputs):
        if multi and inputs_as_args:
            return layer(*inputs, **call_kwargs)
        return layer(inputs if multi else inputs[0], **call_kwargs)

    layer = layer_cls(**init_kwargs)
    y = call(layer, xs)
    _assert_shapes(y, expected_output_shape, "output shape")
    symbolic_inputs = [Input(batch_shape=(None,) + tuple(s[1:]),
                             dtype=input_dtype) for s in shapes]
    symbolic_layer = layer_cls(**init_kwargs)
    symbolic = call(symbolic_layer, symbolic_inputs)
    expected_symbolic = tree.map_structure(
        lambda d: d, _with_none_batch(expected_output_shape))
    _assert_shapes(symbolic, expected_symbolic, "symbolic output shape")
    assert len(layer.trainable_weights) == expected_num_trainable_weights, (
        f"{len(layer.trainable_weights)} trainable weights")
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
        f"{len(layer.non_trainable_weights)} non-trainable weights")

    config = layer.get_config()
    clone = layer_cls.from_config(config)
    call(clone, xs)
    clone_config = clone.get_config()
    config.pop("name"), clone_config.pop("name")
    assert clone_config == config, f"{clone_config} != {config}"
    clone.set_weights(layer.get_weights())
    for a, b in zip(tree.flatten(call(clone, xs)), tree.flatten(y)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)

    symbolic_layer.set_weights(layer.get_weights())
    _check_keras_round_trip(Model(symbolic_inputs, symbolic), xs, y, multi)
    if check_webgpu:
        _check_webgpu_parity(layer_cls, config, layer.get_weights(), xs, y, call)
    if check_gradients:
        _check_layer_gradients(layer, [np.asarray(a) for a in xs], lambda t: call(layer, t),
                               rng, rtol)
    return layer


def _check_keras_round_trip(model, xs, y, multi):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "layer.keras")
        model.save(path)
        loaded = load_model(path)
    inputs = xs if multi else xs[0]
    for got, want in zip(tree.flatten(loaded(inputs)), tree.flatten(y)):
        np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want),
                                   rtol=1e-6, atol=1e-7, err_msg="after a .keras round trip")


def _check_webgpu_parity(layer_cls, config, weights, xs, y, call):
    global _webgpu
    if _webgpu is None:
        try:
            with backend.backend_scope("webgpu") as created:
                _webgpu = created
        except (ImportError, RuntimeError) as error:  # no wgpu, or no adapter
            _webgpu = error
    if isinstance(_webgpu, Exception):
        return
    with backend.backend_scope(_webgpu):
        layer = layer_cls.from_config(config)
        call(layer, xs)
        layer.set_weights(weights)
        outputs = tree.flatten(call(layer, xs))
        for got, want in zip(outputs, tree.flatten(y)):
            np.testing.assert_allclose(ops.convert_to_numpy(got), ops.convert_to_numpy(want),
                                       rtol=1e-4, atol=1e-5, err_msg="WebGPU vs NumPy")


def _random_input(rng, shape, dtype):
    if "int" in dtype:
        return rng.integers(0, 4, size=shape).astype(dtype)
    return rng.uniform(-1, 1, size=shape).astype(dtype)


def _is_shape(s):
    return isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)


def _with_none_batch(expected):
    if _is_shape(expected):
        return (None,) + tuple(expected[1:])
    return [_with_none_batch(e) for e in expected]


def _assert_shapes(outputs, expected, what):
    if _is_shape(tuple(expected)) and not isinstance(outputs, (list, tuple, dict)):
        assert tuple(outputs.shape) == tuple(expected), f"{what} {outputs.shape}, expected " \
            f"{expected}"
        return
    flat = tree.flatten(outputs)
    assert len(flat) == len(expected), f"{len(flat)} outputs, expected {len(expected)}"
    for out, shape in zip(flat, expected):
        assert tuple(out.shape) == tuple(shape), f"{what} {out.shape}, expected {shape}"


def _check_layer_gradients(layer, xs, call, rng, rtol, eps=1e-6):
    weights = layer.weights
    saved = [w.numpy() for w in weights]
    for w in weights:  # float64 copies so finite differences are exact enough
        if "float" in str(w.data.dtype):
            w.data = w.data.astype("float64")
    xs = [a.astype("float64") if "float" in str(a.dtype) else a for a in xs]
    try:
        def run(arrays):
            tensors = [ops.convert_to_tensor(a) for a in arrays]
            return tree.flatten(call(tensors))

        cotangents = [rng.uniform(0.5, 1.5, size=o.shape) for o in run(xs)]

        def objective(arrays):
            # float64 tensors (not ndarrays, which layers cast to float32).
            return float(sum(np.sum(o.numpy() * c) for o, c in zip(run(arrays), cotangents)))

        tensors = [ops.convert_to_tensor(a) for a in xs]
        float_inputs = [t for t in tensors if "float" in t.dtype]
        with GradientTape() as tape:
            tape.watch(float_inputs)
            outputs = tree.flatten(call(tensors))
            loss = sum(ops.sum(o * ops.convert_to_tensor(c)) for o, c in zip(outputs, cotangents))
        trainable = list(layer.trainable_weights)
        grads = tape.gradient(loss, float_inputs + trainable)
        targets = [("input", i, None) for i, a in enumerate(xs) if "float" in str(a.dtype)]
        targets += [("weight", None, w) for w in trainable]
        for grad, (kind, index, variable) in zip(grads, targets):
            array = xs[index] if kind == "input" else variable.data
            numeric = np.zeros_like(array)
            for i in range(array.size):
                original = array.flat[i]
                array.flat[i] = original + eps
                plus = objective(xs)
                array.flat[i] = original - eps
                minus = objective(xs)
                array.flat[i] = original
                numeric.flat[i] = (plus - minus) / (2 * eps)
            name = f"input {index}" if kind == "input" else variable.path
            got = np.zeros_like(numeric) if grad is None else grad.numpy()
            np.testing.assert_allclose(got, numeric, rtol=rtol, atol=1e-6,
                                       err_msg=f"gradient of {name}")
    finally:
        for w, value in zip(weights, saved):
            w.data = value
