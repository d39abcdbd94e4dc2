"""keras.ops coverage (issue #14), part two: nn ops, scatters, control flow, image ops, and the
Keras transformer example's TokenAndPositionEmbedding (ops.arange) training one step."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers

ops = keras.ops


pytestmark = pytest.mark.usefixtures("numpy_backend")


rng = np.random.default_rng(5)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def check(got, want, tol=1e-5):
    if isinstance(want, (tuple, list)):
        for g, w in zip(got, want, strict=True):
            check(g, w, tol)
        return
    got, want = ops.convert_to_numpy(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.where(x <= -1, 0, np.where(x >= 1, 1, (x + 1) / 2)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "glu": lambda x: x[..., :2] * sigmoid(x[..., 2:]),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations(name):
    x = r(3, 4, low=-3, high=3)
    check(getattr(ops, name)(x), ACTIVATIONS[name](x), tol=1e-5)


def test_softmax_over_any_axes():
    x = r(2, 3, 4)
    for axis in (0, 1, -1, (0, 2)):
        check(ops.softmax(x, axis=axis), np_softmax(x, axis))
        check(ops.log_softmax(x, axis=axis), np.log(np_softmax(x, axis)), tol=1e-5)
    check(ops.softmax(x, axis=None), np_softmax(x, None))


def test_one_hot_and_multi_hot():
    check(ops.one_hot([0, 2], 3, axis=0), np.eye(3)[[0, 2]].T)
    assert ops.one_hot([1], 2).dtype == "float32"
    check(ops.multi_hot([[0, 2], [1, 1]], 3), [[1, 0, 1], [0, 1, 0]])
    check(ops.multi_hot([0, 2], 4), [1, 0, 1, 0])


def test_normalization_ops():
    x = r(3, 4)
    check(ops.normalize(x), x / np.linalg.norm(x, axis=-1, keepdims=True))
    mean, var = x.mean(0), x.var(0)
    check(ops.batch_normalization(x, mean, var, axis=1, epsilon=1e-3),
          (x - mean) / np.sqrt(var + 1e-3), tol=1e-4)
    centred = x - x.mean(-1, keepdims=True)
    check(ops.layer_normalization(x, epsilon=1e-3),
          centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + 1e-3), tol=1e-4)
    check(ops.rms_normalization(x, epsilon=1e-6),
          x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6), tol=1e-4)


def _attention(q, k, v, mask=None, causal=False):
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(q.shape[-1])
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= mask
    if causal:
        allowed &= np.tri(logits.shape[-2], logits.shape[-1], dtype=bool)
    weights = np_softmax(np.where(allowed, logits, -1e30), -1)
    return np.einsum("bnts,bsnh->btnh", weights, v)


def test_dot_product_attention():
    q, k, v = r(2, 3, 2, 4), r(2, 5, 2, 4), r(2, 5, 2, 4)
    check(ops.dot_product_attention(q, k, v), _attention(q, k, v), tol=1e-5)
    mask = r(2, 1, 3, 5) > 0
    mask[..., 0] = True
    check(ops.dot_product_attention(q, k, v, mask=mask), _attention(q, k, v, mask), tol=1e-5)
    q3 = r(2, 5, 2, 4)
    check(ops.dot_product_attention(q3, k, v, is_causal=True), _attention(q3, k, v, None, True),
          tol=1e-5)
    grouped = ops.dot_product_attention(r(1, 3, 4, 4), k[:1], v[:1])
    assert grouped.shape == (1, 3, 4, 4)
    assert ops.dot_product_attention(q[0], k[0], v[0]).shape == (3, 2, 4)


def test_depth_space_and_psnr():
    x = r(2, 2, 3, 8)
    n, h, w, c = x.shape
    want = x.reshape(n, h, w, 2, 2, 2).transpose(0, 1, 3, 2, 4, 5).reshape(n, 4, 6, 2)
    check(ops.depth_to_space(x, 2), want)
    check(ops.space_to_depth(want, 2), x)
    check(ops.depth_to_space(x.transpose(0, 3, 1, 2), 2, data_format="channels_first"),
          want.transpose(0, 3, 1, 2))
    a, b = r(4, 4), r(4, 4)
    check(ops.psnr(a, b, 4.0), 20 * np.log10(4.0) - 10 * np.log10(np.mean((a - b) ** 2)),
          tol=1e-4)


# -- scatters ----------------------------------------------------------------------------------
def test_scatter_family():
    check(ops.scatter([[0, 1], [2, 3], [0, 1]], [1.0, 2.0, 3.0], (3, 4)),
          [[0, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]])
    check(ops.scatter([[1], [0]], np.ones((2, 3), np.float32), (2, 3)), np.ones((2, 3)))
    x = r(4, 3)
    want = x.copy()
    want[[1, 3]] = 9.0
    check(ops.scatter_update(x, [[1], [3]], np.full((2, 3), 9.0, np.float32)), want)
    want = x.copy()
    want[1:3, 1:3] = -1.0
    check(ops.slice_update(x, (1, 1), -np.ones((2, 2), np.float32)), want)


def test_segment_reductions():
    x = r(5, 2)
    ids = np.array([0, 2, 0, 2, 7])  # 7 is out of range for num_segments=4: dropped
    sums = np.zeros((4, 2), np.float32)
    for row, i in zip(x, ids):
        if i < 4:
            sums[i] += row
    check(ops.segment_sum(x, ids, num_segments=4), sums)
    check(ops.segment_sum(x[:4], ids[:4]), sums[:3])
    maxima = ops.segment_max(x[:4], ids[:4]).numpy()
    np.testing.assert_allclose(maxima[0], np.maximum(x[0], x[2]))
    assert np.all(np.isneginf(maxima[1]))


# -- control flow ------------------------------------------------------------------------------
def test_control_flow():
    assert ops.cond(ops.convert_to_tensor(True), lambda: 1, lambda: 2) == 1
    assert ops.switch(5, [lambda x: x, lambda x: -x], 3) == -3
    assert int(ops.while_loop(lambda i: i < 10, lambda i: i + 1, 0)) == 10
    i, total = ops.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + i), (0, 0.0))
    assert (int(i), float(total)) == (4, 6.0)
    assert int(ops.while_loop(lambda i: i < 100, lambda i: i + 1, 0, maximum_iterations=7)) == 7
    assert ops.fori_loop(0, 5, lambda i, v: v + i, 0) == 10
    carry, ys = ops.scan(lambda c, x: (c + x, c * 2), 0.0, ops.arange(4.0))
    check(carry, 6.0)
    check(ys, [0.0, 0.0, 2.0, 6.0])
    carry, ys = ops.scan(lambda c, x: (c + 1, {"a": c}), 0, length=3, reverse=True)
    check(ys["a"], [2, 1, 0])
    check(ops.map(lambda x: x * 2, ops.arange(3)), [0, 2, 4])
    check(ops.vectorized_map(lambda p: p[0] + p[1], (np.ones((2, 3)), np.ones((2, 3)))),
          np.full((2, 3), 2.0))
    check(ops.associative_scan(lambda a, b: a + b, ops.arange(5)), np.cumsum(np.arange(5)))
    check(ops.associative_scan(lambda a, b: a * b, np.arange(1.0, 5.0), reverse=True),
          [24.0, 24.0, 12.0, 4.0])


def test_core_helpers():
    x = ops.convert_to_tensor([1.5, -2.0])
    assert ops.dtype(x) == "float32" and ops.is_tensor(x) and not ops.is_tensor(1.0)
    check(ops.saturate_cast(np.array([1e10, -1e10, 3.7], np.float32), "int32"),
          [2**31 - 128, -2**31, 3])
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1.0], sparse=True)


# -- image -------------------------------------------------------------------------------------
def test_resize_bilinear_uses_half_pixel_centres():
    row = np.arange(4, dtype=np.float32)
    image = np.broadcast_to(row, (4, 4)).reshape(1, 4, 4, 1)
    up = ops.image.resize(image, (8, 8)).numpy()[0, 0, :, 0]
    np.testing.assert_allclose(up, [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0])
    down = ops.image.resize(image, (2, 2)).numpy()[0, 0, :, 0]
    np.testing.assert_allclose(down, [0.5, 2.5])


def test_resize_modes_and_layouts():
    images = r(2, 6, 4, 3)
    nearest = ops.image.resize(images, (3, 8), interpolation="nearest").numpy()
    np.testing.assert_array_equal(nearest, images[:, [1, 3, 5]][:, :, [0, 0, 1, 1, 2, 2, 3, 3]])
    first = ops.image.resize(images.transpose(0, 3, 1, 2), (5, 7), data_format="channels_first")
    check(first, ops.image.resize(images, (5, 7)).numpy().transpose(0, 3, 1, 2))
    assert ops.image.resize(images[0], (2, 2), interpolation="bicubic").shape == (2, 2, 3)
    assert ops.image.resize(images, (3, 3), antialias=True, interpolation="lanczos3").shape \
        == (2, 3, 3, 3)
    # Constant images stay constant under every kernel.
    flat = np.full((1, 5, 5, 1), 2.0, np.float32)
    for interpolation in ("bilinear", "bicubic", "lanczos5"):
        check(ops.image.resize(flat, (3, 7), interpolation=interpolation, antialias=True),
              np.full((1, 3, 7, 1), 2.0), tol=1e-5)
    cropped = ops.image.resize(images, (2, 2), crop_to_aspect_ratio=True)
    check(cropped, ops.image.resize(images[:, 1:5], (2, 2)))
    padded = ops.image.resize(images, (6, 6), pad_to_aspect_ratio=True, fill_value=-1.0)
    check(padded[:, :, 0], np.full((2, 6, 3), -1.0))
    uint = ops.image.resize(np.arange(16, dtype=np.uint8).reshape(4, 4, 1), (2, 2))
    assert uint.dtype == "int32"
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(images, (2, 2), interpolation="area")


def test_rgb_to_grayscale():
    images = r(2, 3, 3, 3)
    check(ops.image.rgb_to_grayscale(images),
          (images * np.array([0.2989, 0.5870, 0.1140])).sum(-1, keepdims=True), tol=1e-5)


# -- the Keras transformer example ---------------------------------------------------------------
class TokenAndPositionEmbedding(layers.Layer):
    """As in keras.io's "Text classification with Transformer" example."""

    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def test_token_and_position_embedding_trains_one_step():
    keras.utils.set_random_seed(0)
    vocab_size, maxlen, embed_dim = 20, 6, 8
    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=embed_dim)(x, x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x_train = np.random.default_rng(0).integers(0, vocab_size, (8, maxlen))
    y_train = np.arange(8) % 2
    embedding = model.layers[1].pos_emb.embeddings
    before = embedding.numpy()
    history = model.fit(x_train, y_train, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # The position table was used (through ops.arange) and trained.
    assert not np.allclose(embedding.numpy(), before)
