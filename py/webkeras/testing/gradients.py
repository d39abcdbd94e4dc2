"""`check_gradients`: tape gradients against central finite differences (used by op tests)."""

import numpy as np

from webkeras import ops
from webkeras.ops.tape import GradientTape


def check_gradients(fn, *arrays, eps=1e-6, rtol=1e-5, atol=1e-6, weights_seed=0):
    """Compare the tape's gradients of sum(fn(*arrays) * w) with central differences.

    Inputs are taken as float64 (run on the NumPy backend). `w` is a random cotangent: it
    catches VJPs that are only right for an all-ones seed.
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    out_shape = fn(*[ops.convert_to_tensor(a) for a in arrays]).shape
    w = ops.convert_to_tensor(np.random.default_rng(weights_seed).uniform(0.5, 1.5, out_shape))

    def objective(*values):
        return float(ops.sum(fn(*[ops.convert_to_tensor(a) for a in values]) * w).numpy())

    tensors = [ops.convert_to_tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(tensors)
        loss = ops.sum(fn(*tensors) * w)
    grads = tape.gradient(loss, tensors)
    for i, (grad, array) in enumerate(zip(grads, arrays)):
        numeric = np.zeros_like(array)
        for j in range(array.size):
            saved = array.flat[j]
            array.flat[j] = saved + eps
            plus = objective(*arrays)
            array.flat[j] = saved - eps
            minus = objective(*arrays)
            array.flat[j] = saved
            numeric.flat[j] = (plus - minus) / (2 * eps)
        assert grad is not None, f"input {i}: no gradient"
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
