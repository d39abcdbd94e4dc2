"""`run_layer_test`: one harness that checks a layer's contract in a few lines per layer."""

import numpy as np

from webkeras import backend, ops
from webkeras.ops.tape import GradientTape


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape,
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   check_gradients=True, seed=0):
    """Builds `layer_cls(**init_kwargs)` and checks, on the NumPy backend:

    - the output shape, eagerly and symbolically (`compute_output_shape` / `keras.Input`);
    - the number of trainable and non-trainable weights;
    - that `from_config(get_config())` gives the same config and, with the same weights, the
      same output;
    - the gradients of the output with respect to the input and every weight, against central
      differences in float64.
    """
    from webkeras.layers import Input

    backend.set_backend("numpy")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=input_shape).astype("float32")
    layer = layer_cls(**init_kwargs)
    y = layer(x)
    assert tuple(y.shape) == tuple(expected_output_shape), (
        f"output shape {y.shape}, expected {expected_output_shape}")
    symbolic = layer_cls(**init_kwargs)(Input(batch_shape=(None,) + tuple(input_shape[1:])))
    assert symbolic.shape == (None,) + tuple(expected_output_shape[1:])
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    config = layer.get_config()
    clone = layer_cls.from_config(config)
    clone(x)
    clone_config = clone.get_config()
    config.pop("name"), clone_config.pop("name")
    assert clone_config == config, f"{clone_config} != {config}"
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), y.numpy(), rtol=1e-6)

    if check_gradients:
        _check_layer_gradients(layer, x.astype("float64"), rng)
    return layer


def _check_layer_gradients(layer, x, rng, eps=1e-6):
    weights = layer.weights
    saved = [w.numpy() for w in weights]
    for w in weights:  # float64 copies so finite differences are exact enough
        w.data = w.data.astype("float64")
    try:
        cotangent = rng.uniform(0.5, 1.5, size=layer(ops.convert_to_tensor(x)).shape)

        def objective(inputs):
            # A float64 tensor (not an ndarray, which layers cast to float32).
            return float(np.sum(layer(ops.convert_to_tensor(inputs)).numpy() * cotangent))

        xt = ops.convert_to_tensor(x)
        with GradientTape() as tape:
            tape.watch(xt)
            loss = ops.sum(layer(xt) * ops.convert_to_tensor(cotangent))
        grads = tape.gradient(loss, [xt] + list(layer.trainable_weights))
        targets = [("input", None, x)] + [("weight", w, None) for w in layer.trainable_weights]
        for grad, (kind, variable, value) in zip(grads, targets):
            array = value if kind == "input" else variable.data
            numeric = np.zeros_like(array)
            for i in range(array.size):
                original = array.flat[i]
                array.flat[i] = original + eps
                plus = objective(x)
                array.flat[i] = original - eps
                minus = objective(x)
                array.flat[i] = original
                numeric.flat[i] = (plus - minus) / (2 * eps)
            name = "input" if kind == "input" else variable.path
            np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-5, atol=1e-6,
                                       err_msg=f"gradient of {name}")
    finally:
        for w, value in zip(weights, saved):
            w.data = value
