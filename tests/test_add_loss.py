"""Losses added in the forward pass (`add_loss`, activity regularizers), as the Keras guides
use them: "Making new layers and models via subclassing" and "Training & evaluation with the
built-in methods"."""

import numpy as np
import pytest

import webkeras as keras
from webkeras import layers, ops


class ActivityRegularizationLayer(layers.Layer):
    """The guide's layer: adds `rate * sum(inputs)` to the loss."""

    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(inputs))
        return inputs


class OuterLayer(layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


def digits(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 12)).astype("float32"), rng.integers(0, 10, n)


def test_layer_losses_are_reset_on_each_top_level_call():
    # The subclassing guide: "These losses are cleared by the top-level layer at the start
    # of each forward pass -- they don't accumulate."
    layer = OuterLayer()
    assert len(layer.losses) == 0
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    layer(ops.ones((2, 3)))
    np.testing.assert_allclose(float(layer.losses[0]), 0.06, rtol=1e-6)


def test_a_shared_layer_called_twice_keeps_both_losses():
    class Twice(layers.Layer):
        def __init__(self):
            super().__init__()
            self.reg = ActivityRegularizationLayer(1.0)

        def call(self, x):
            return self.reg(self.reg(x))

    layer = Twice()
    layer(ops.ones((1, 2)))
    assert [float(v) for v in layer.losses] == [2.0, 2.0]


def test_weight_regularizers_appear_in_losses_with_the_guides_layer():
    class OuterLayerWithKernelRegularizer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

        def call(self, inputs):
            return self.dense(inputs)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    kernel = layer.dense.kernel.numpy()
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 1e-3 * (kernel ** 2).sum(), rtol=1e-5)


def test_functional_model_with_the_guides_activity_regularization_layer_trains():
    inputs = keras.Input(shape=(12,), name="digits")
    x = layers.Dense(16, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer(rate=10.0)(x)
    x = layers.Dense(16, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    # Building the graph ran the layer on placeholders: no loss is left behind.
    assert model.losses == []
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train, y_train = digits()
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = model(x_train)
    extra = float(model.losses[0])
    assert extra > 0
    evaluated = model.evaluate(x_train, y_train, batch_size=64, verbose=0)
    np.testing.assert_allclose(evaluated, float(plain(y_train, logits)) + extra, rtol=1e-5)
    history = model.fit(x_train, y_train, batch_size=16, epochs=3, verbose=0)
    # The activity penalty dominates, so training drives it (and the loss) down.
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_train_on_batch_adds_the_layer_losses():
    inputs = keras.Input(shape=(12,))
    x = ActivityRegularizationLayer(rate=1.0)(inputs)
    outputs = layers.Dense(1, kernel_initializer="zeros")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x_train = np.ones((4, 12), "float32")
    loss = model.train_on_batch(x_train, np.zeros((4, 1)))
    np.testing.assert_allclose(loss, 48.0, rtol=1e-6)


def test_activity_regularizer_argument_is_a_layer_loss():
    layer = layers.Dense(2, kernel_initializer="ones", activity_regularizer="l1")
    layer(np.ones((4, 3), "float32"))
    # Keras 3 divides the penalty by the batch size: 0.01 * sum(|y|) / 4.
    np.testing.assert_allclose(float(layer.losses[0]), 0.01 * 24 / 4, rtol=1e-6)


# -- The guide's variational autoencoder (subclassed model, `add_loss` in `call`) -----------
class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def images(n=128, dim=20, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, dim)) > 0.5).astype("float32")


def test_the_guides_vae_trains_with_fit():
    keras.utils.set_random_seed(0)
    x_train = images()
    vae = VariationalAutoEncoder(20, 16, 4)
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=4, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    assert len(vae.losses) == 1


def test_the_guides_vae_trains_in_a_custom_loop_with_model_losses():
    keras.utils.set_random_seed(0)
    x_train = images()
    vae = VariationalAutoEncoder(20, 16, 4)
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    mse_loss_fn = keras.losses.MeanSquaredError()
    dataset = keras.data.Dataset.from_tensor_slices(x_train).batch(32)
    first = last = None
    for _ in range(4):
        for x_batch_train in dataset:
            with keras.GradientTape() as tape:
                reconstructed = vae(x_batch_train)
                loss = mse_loss_fn(x_batch_train, reconstructed)
                loss += sum(vae.losses)  # Add KLD regularization loss
            grads = tape.gradient(loss, vae.trainable_weights)
            optimizer.apply_gradients(zip(grads, vae.trainable_weights))
            first = float(loss) if first is None else first
            last = float(loss)
    assert last < first


def test_compile_without_loss_when_the_model_adds_its_own():
    class SelfSupervised(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)

        def call(self, x):
            y = self.dense(x)
            self.add_loss(ops.mean(ops.square(y - 1.0)))
            return y

    model = SelfSupervised()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    x = np.random.default_rng(0).random((32, 5)).astype("float32")
    history = model.fit(x, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, verbose=0) == pytest.approx(history.history["loss"][-1], rel=0.5)
    assert np.isfinite(model.train_on_batch(x))


def test_no_loss_at_all_still_says_so():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


def test_add_loss_accepts_numbers_and_tf_keras_2_callables():
    dense = layers.Dense(2, kernel_initializer="ones")

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = dense

        def call(self, x):
            self.add_loss(0.5)
            return self.dense(x)

    model = Model()
    # tf.keras 2: a zero-argument callable is evaluated each time `losses` is read.
    model.add_loss(lambda: ops.sum(dense.kernel))
    model(np.ones((1, 3)))
    assert sorted(float(v) for v in model.losses) == [0.5, 6.0]
    model(np.ones((1, 3)))
    assert len(model.losses) == 2
