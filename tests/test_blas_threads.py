"""The NumPy backend's BLAS thread choice: one thread for small products (restored after),
and products that give the same values either way."""

import numpy as np
import pytest
from webkeras.backend.numpy import NumpyBackend
from webkeras.backend.numpy.blas_threads import PARALLEL_FLOPS, BlasThreads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    return max((c.num_threads for c in threadpoolctl.ThreadpoolController().lib_controllers
                if c.user_api == "blas"), default=1)


@pytest.mark.skipif(blas_threads() < 2, reason="this NumPy's BLAS runs one thread only")
def test_small_products_run_on_one_thread_and_the_count_comes_back():
    before = blas_threads()
    with BlasThreads().for_product(2 * 128 * 784 * 128):
        assert blas_threads() == 1
    assert blas_threads() == before
    with pytest.raises(ZeroDivisionError), BlasThreads().for_product(10):
        raise ZeroDivisionError("inside the block")
    assert blas_threads() == before


def test_products_are_the_same_on_either_side_of_the_threshold():
    rng = np.random.default_rng(0)
    backend = NumpyBackend()
    for m, k, n in [(3, 5, 7), (2, 384, 384), (384, 384, 400)]:
        a, b = rng.normal(size=(m, k)).astype("float32"), rng.normal(size=(k, n)).astype("float32")
        np.testing.assert_allclose(backend.matmul(a, b), a @ b, rtol=1e-5, atol=1e-4)
    assert 2 * 384 * 384 * 400 >= PARALLEL_FLOPS > 2 * 2 * 384 * 384
