"""Fused element-wise chains (backend/webgpu/elementwise_chains.py) against the NumPy reference
backend running the same steps one primitive at a time, over many shapes (broadcasts included);
each chain is one dispatch."""

import numpy as np
import pytest

from test_kernels import PAIRS, REF, SHAPES, assert_close, sample
from webkeras.backend.webgpu import WebGPUBackend

# The int chain takes sqrt of negative ints on both sides (NaN, cast to int).
pytestmark = pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")

# name: (chain, dtypes of its inputs); operands >= 0 are inputs, -(j + 1) step j's result.
CHAINS = {
    "bias_relu": ((("binary", "add", (0, 1)), ("unary", "relu", (-1,))),
                  ("float32", "float32")),
    "bias_sigmoid": ((("binary", "add", (0, 1)), ("unary", "sigmoid", (-1,))),
                     ("float32", "float32")),
    "bias_tanh": ((("binary", "add", (0, 1)), ("unary", "tanh", (-1,))),
                  ("float32", "float32")),
    # An activation's gradient times the incoming one: g * cast(y > 0, float32).
    "relu_grad": ((("binary", "greater", (0, 1)), ("cast", "float32", (-1,)),
                   ("binary", "mul", (2, -2))), ("float32", "float32", "float32")),
    # tanh's: g * (1 - y * y)
    "tanh_grad": ((("binary", "mul", (0, 0)), ("binary", "sub", (1, -1)),
                   ("binary", "mul", (2, -2))), ("float32", "float32", "float32")),
    # Cross-entropy's: labels * log(clip(p, eps, 1 - eps))
    "clip_log_mul": ((("clip", (1e-7, 1 - 1e-7), (0,)), ("unary", "log", (-1,)),
                      ("binary", "mul", (1, -2))), ("float32", "float32")),
    "where_compare": ((("binary", "less_equal", (0, 1)), ("binary", "div", (0, 1)),
                       ("unary", "neg", (1,)), ("where", None, (-1, -2, -3))),
                      ("float32", "float32")),
    # Int steps, two float-only ops on ints (each with a helper of its own), a cast to bool.
    "int_helpers": ((("unary", "exp", (0,)), ("unary", "sqrt", (1,)),
                     ("binary", "add", (-1, -2)), ("cast", "bool", (-3,))),
                    ("int32", "int32")),
    "int_clip_relu": ((("binary", "sub", (0, 1)), ("clip", (-3, None), (-1,)),
                       ("unary", "relu", (-2,)), ("cast", "float32", (-3,))),
                      ("int32", "int32")),
}
# A chain reading six arrays.
SIX = (("binary", "add", (0, 1)), ("binary", "mul", (-1, 2)), ("binary", "sub", (-2, 3)),
       ("binary", "maximum", (-3, 4)), ("binary", "div", (-4, 5)))


@pytest.fixture(scope="module")
def gpu():
    return WebGPUBackend()


def run_steps(backend, chain, arrays):
    """`chain` on `backend`, one primitive a step."""
    results = []
    for kind, op, operands in chain:
        args = [arrays[k] if k >= 0 else results[-k - 1] for k in operands]
        if kind in ("unary", "binary"):
            results.append(getattr(backend, kind)(op, *args))
        elif kind == "cast":
            results.append(backend.cast(args[0], op))
        elif kind == "where":
            results.append(backend.where(*args))
        else:
            results.append(backend.clip(args[0], *op))
    return results[-1]


def reference(chain, arrays):
    return run_steps(REF, chain, arrays)


def check(gpu, chain, hosts):
    arrays = [gpu.from_numpy(h) for h in hosts]
    gpu.flush()  # the uploads' fills
    dispatches = gpu.driver.dispatches
    got = gpu.elementwise_chain(chain, arrays)
    gpu.flush()
    size = int(np.prod(np.broadcast_shapes(*(h.shape for h in hosts))))
    assert gpu.driver.dispatches - dispatches == (1 if size else 0)
    assert_close(gpu.to_numpy(got), reference(chain, [REF.from_numpy(h) for h in hosts]))


def _inputs(dtypes, shapes, seed):
    return [sample(shape, "div" if dtype == "float32" and k == 1 else None, seed + k, dtype)
            for k, (dtype, shape) in enumerate(zip(dtypes, shapes))]


@pytest.mark.parametrize("shapes", PAIRS)
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_matches_its_steps(gpu, name, shapes):
    chain, dtypes = CHAINS[name]
    # A third input takes the first one's shape broadcast against the second's.
    third = np.broadcast_shapes(*shapes)
    check(gpu, chain, _inputs(dtypes, list(shapes) + [third], seed=len(third)))


@pytest.mark.parametrize("shape", SHAPES)
def test_six_input_chain(gpu, shape):
    hosts = [sample(shape, "div", seed) for seed in range(6)]
    check(gpu, SIX, hosts)


def test_non_finite_values_as_the_unfused_kernels(gpu):
    # (WGSL's max(NaN, 0) is 0 on some drivers: relu's own kernel's behaviour, kept.)
    y = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 1e-30, -1e-30, 3.0], np.float32)
    arrays = [gpu.from_numpy(y), gpu.from_numpy(np.zeros(1, np.float32))]
    for name in ("bias_relu", "bias_sigmoid", "bias_tanh", "relu_grad"):
        chain = CHAINS[name][0]
        got = gpu.elementwise_chain(chain, arrays + arrays[:1])
        want = run_steps(gpu, chain, arrays + arrays[:1])
        np.testing.assert_array_equal(gpu.to_numpy(got), gpu.to_numpy(want), err_msg=name)


def test_more_inputs_than_the_kernel_binds_is_an_error(gpu):
    arrays = [gpu.from_numpy(np.ones(3, np.float32)) for _ in range(8)]
    chain = (("binary", "add", (0, 1)),) + tuple(("binary", "add", (-j, j + 1))
                                                 for j in range(1, 7))
    with pytest.raises(ValueError, match="at most 7 arrays; received 8"):
        gpu.elementwise_chain(chain, arrays)
