import numpy as np
import pytest
import webkeras as keras
from webkeras.testing import run_layer_test

L = keras.layers


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "go_backwards": True}])
def test_recurrent_layers(cls, kwargs):
    expected = (2, 3, 2) if kwargs.get("return_sequences") else (2, 2)
    run_layer_test(cls, {"units": 2, **kwargs}, (2, 3, 2), expected,
                   expected_num_trainable_weights=3, rtol=1e-4)


def test_gru_reset_before_and_return_state():
    run_layer_test(L.GRU, {"units": 2, "reset_after": False}, (2, 3, 2), (2, 2),
                   expected_num_trainable_weights=3, rtol=1e-4)
    run_layer_test(L.LSTM, {"units": 2, "return_state": True}, (2, 3, 2),
                   [(2, 2), (2, 2), (2, 2)], expected_num_trainable_weights=3, rtol=1e-4)


def test_keras_weight_shapes():
    gru = L.GRU(4)
    gru(np.zeros((1, 2, 3)))
    assert [w.shape for w in gru.weights] == [(3, 12), (4, 12), (2, 12)]
    lstm = L.LSTM(4)
    lstm(np.zeros((1, 2, 3)))
    assert [w.shape for w in lstm.weights] == [(3, 16), (4, 16), (16,)]
    np.testing.assert_array_equal(lstm.weights[2].numpy()[4:8], 1.0)  # unit_forget_bias


def test_masking_carries_state_over_masked_steps():
    model = keras.Sequential([L.Embedding(10, 3, mask_zero=True), L.SimpleRNN(2)])
    padded = model(np.array([[1, 2, 0, 0]])).numpy()
    short = model(np.array([[1, 2]])).numpy()
    np.testing.assert_allclose(padded, short, rtol=1e-6)


def test_dropout_only_in_training():
    layer = L.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=1)
    x = np.ones((2, 4, 3), "float32")
    np.testing.assert_allclose(layer(x).numpy(), layer(x, training=False).numpy())
    assert not np.allclose(layer(x, training=True).numpy(), layer(x).numpy())


def test_bidirectional_and_time_distributed():
    run_layer_test(L.Bidirectional, {"layer": L.SimpleRNN(2, return_sequences=True)},
                   (2, 3, 2), (2, 3, 4), expected_num_trainable_weights=6, rtol=1e-4)
    run_layer_test(L.Bidirectional, {"layer": L.GRU(2), "merge_mode": "sum"}, (2, 3, 2),
                   (2, 2), expected_num_trainable_weights=6, rtol=1e-4)
    run_layer_test(L.TimeDistributed, {"layer": L.Dense(3)}, (2, 3, 2), (2, 3, 3),
                   expected_num_trainable_weights=2)


def test_embedding():
    run_layer_test(L.Embedding, {"input_dim": 5, "output_dim": 3}, (2, 4), (2, 4, 3),
                   expected_num_trainable_weights=1, input_dtype="int32")
    layer = L.Embedding(5, 2, mask_zero=True)
    assert layer.compute_mask(np.array([[1, 0]]), None).numpy().tolist() == [[True, False]]


def test_multi_head_attention():
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v = np.random.rand(2, 4, 5).astype("float32"), np.random.rand(2, 6, 7).astype("float32")
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (2, 4, 5) and scores.shape == (2, 2, 4, 6)
    assert [w.shape for w in layer.weights] == [(5, 2, 3), (2, 3), (7, 2, 3), (2, 3),
                                                (7, 2, 3), (2, 3), (2, 3, 5), (5,)]
    symbolic = L.MultiHeadAttention(2, 3)(keras.Input((4, 5)), keras.Input((6, 7)))
    assert symbolic.shape == (None, 4, 5)
    run_layer_test(L.MultiHeadAttention, {"num_heads": 2, "key_dim": 2}, [(1, 3, 4), (1, 2, 4)],
                   (1, 3, 4), expected_num_trainable_weights=8, rtol=1e-4, inputs_as_args=True)
