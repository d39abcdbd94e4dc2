"""The RNN path is linear in sequence length: the array work of a forward + backward pass of
an LSTM (the elements every backend op writes) grows 4x from 40 to 160 steps, not 16x (as it
would if each step's input-slice gradient were padded to the whole sequence)."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import ops
from webkeras.backend import get_backend


def elements_written(steps, monkeypatch, return_sequences):
    backend = get_backend()
    if backend.name != "numpy":
        pytest.skip("counts the NumPy backend's arrays")
    layer = keras.layers.LSTM(8, return_sequences=return_sequences)
    x = ops.convert_to_tensor(np.random.default_rng(0).random((4, steps, 3), "float32"))
    layer(x)
    total = [0]

    def counting(method):
        def wrapper(*args, **kwargs):
            out = method(*args, **kwargs)
            if isinstance(out, np.ndarray):
                total[0] += out.size
            return out

        return wrapper

    with monkeypatch.context() as patch:
        for name in dir(backend):
            method = getattr(backend, name)
            if not name.startswith("_") and callable(method):
                patch.setattr(backend, name, counting(method))
        with keras.GradientTape() as tape:
            loss = ops.sum(layer(x))
        tape.gradient(loss, layer.trainable_weights)
    return total[0]


@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_forward_and_backward_work_is_linear_in_steps(monkeypatch, return_sequences):
    short = elements_written(40, monkeypatch, return_sequences)
    long = elements_written(160, monkeypatch, return_sequences)
    assert long / short < 4.5
