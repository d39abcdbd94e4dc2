"""keras.random (issue #14): distributions, seeds, SeedGenerator, through the public API."""

import numpy as np
import pytest

import webkeras as keras

random = keras.random
ops = keras.ops


pytestmark = pytest.mark.usefixtures("numpy_backend")


def values(t):
    return ops.convert_to_numpy(t)


SAMPLERS = {
    "normal": lambda seed: random.normal((400, 50), mean=1.0, stddev=2.0, seed=seed),
    "uniform": lambda seed: random.uniform((400, 50), minval=-1.0, maxval=3.0, seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((400, 50), stddev=2.0, seed=seed),
    "randint": lambda seed: random.randint((400, 50), 3, 9, seed=seed),
    "gamma": lambda seed: random.gamma((400, 50), alpha=2.0, seed=seed),
    "beta": lambda seed: random.beta((400, 50), alpha=2.0, beta=3.0, seed=seed),
    "binomial": lambda seed: random.binomial((400, 50), counts=10, probabilities=0.3,
                                             seed=seed),
    "dropout": lambda seed: random.dropout(ops.ones((400, 50)), 0.25, seed=seed),
    "shuffle": lambda seed: random.shuffle(ops.arange(20000), seed=seed),
    "categorical": lambda seed: random.categorical(
        ops.log(ops.convert_to_tensor([[0.2, 0.8], [0.5, 0.5]])), 10000, seed=seed),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_int_seeds_repeat_and_differ(name):
    sample = SAMPLERS[name]
    first, again, other = values(sample(7)), values(sample(7)), values(sample(8))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_seed_generator_advances_and_replays(name):
    sample = SAMPLERS[name]
    generator = random.SeedGenerator(42)
    first, second = values(sample(generator)), values(sample(generator))
    assert not np.array_equal(first, second)
    # Keras semantics: a generator's first draw is the int seed's draw.
    np.testing.assert_array_equal(first, values(sample(42)))
    replay = random.SeedGenerator(42)
    np.testing.assert_array_equal(values(sample(replay)), first)
    np.testing.assert_array_equal(values(sample(replay)), second)


def test_unseeded_draws_follow_set_random_seed():
    keras.utils.set_random_seed(3)
    a = values(random.normal((5,)))
    b = values(random.normal((5,)))
    keras.utils.set_random_seed(3)
    np.testing.assert_array_equal(values(random.normal((5,))), a)
    assert not np.array_equal(a, b)
    keras.utils.set_random_seed(3)
    generator = random.SeedGenerator()  # seeded from the global generator
    keras.utils.set_random_seed(3)
    assert random.SeedGenerator()._seed == generator._seed


def test_distribution_statistics():
    x = values(SAMPLERS["normal"](0))
    assert x.dtype == np.float32 and x.shape == (400, 50)
    assert abs(x.mean() - 1.0) < 0.05 and abs(x.std() - 2.0) < 0.05
    u = values(SAMPLERS["uniform"](0))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    t = values(SAMPLERS["truncated_normal"](0))
    assert np.abs(t).max() <= 4.0 and 1.6 < t.std() < 1.8
    i = values(SAMPLERS["randint"](0))
    assert i.dtype == np.int32 and set(np.unique(i)) == set(range(3, 9))
    g = values(SAMPLERS["gamma"](0))
    assert abs(g.mean() - 2.0) < 0.05 and g.min() > 0
    b = values(SAMPLERS["beta"](0))
    assert abs(b.mean() - 0.4) < 0.01 and 0 < b.min() and b.max() < 1
    n = values(SAMPLERS["binomial"](0))
    assert n.dtype == np.float32 and abs(n.mean() - 3.0) < 0.05 and n.max() <= 10


def test_dropout_zeroes_and_rescales():
    x = values(SAMPLERS["dropout"](0))
    np.testing.assert_allclose(np.unique(x), [0.0, 1.0 / 0.75])
    assert abs((x == 0).mean() - 0.25) < 0.01
    shared = values(random.dropout(ops.ones((4, 6, 3)), 0.5, noise_shape=(None, 1, 3), seed=1))
    assert np.all(shared == shared[:, :1, :])
    np.testing.assert_array_equal(values(random.dropout(ops.ones((3,)), 0.0, seed=1)), 1.0)
    np.testing.assert_array_equal(values(random.dropout(ops.ones((3,)), 1.0, seed=1)), 0.0)


def test_dropout_is_differentiable():
    x = ops.convert_to_tensor(np.ones((4, 5), np.float32))
    with keras.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(random.dropout(x, 0.5, seed=2) * 3.0)
    mask = values(random.dropout(ops.ones((4, 5)), 0.5, seed=2))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3.0 * mask)


def test_shuffle_permutes_along_an_axis():
    x = np.arange(12).reshape(3, 4)
    shuffled = values(random.shuffle(x, axis=1, seed=0))
    np.testing.assert_array_equal(np.sort(shuffled, axis=1), x)
    assert np.all(shuffled[:, :1] % 4 == shuffled[0, 0] % 4)  # one permutation for all rows
    np.testing.assert_array_equal(np.sort(values(SAMPLERS["shuffle"](0))), np.arange(20000))


def test_categorical_follows_the_logits():
    samples = values(SAMPLERS["categorical"](0))
    assert samples.shape == (2, 10000) and samples.dtype == np.int32
    assert abs(samples[0].mean() - 0.8) < 0.02 and abs(samples[1].mean() - 0.5) < 0.02
    never = ops.convert_to_tensor([[0.0, -np.inf, 0.0]])
    assert 1 not in values(random.categorical(never, 500, seed=0))


def test_tensor_parameters_are_differentiable():
    mean = ops.convert_to_tensor(np.array([1.0, -1.0], np.float32))
    stddev = ops.convert_to_tensor(np.array([2.0, 0.5], np.float32))
    with keras.GradientTape() as tape:
        tape.watch([mean, stddev])
        z = random.normal((3, 2), mean=mean, stddev=stddev, seed=4)
        loss = ops.sum(z)
    grad_mean, grad_stddev = tape.gradient(loss, [mean, stddev])
    np.testing.assert_allclose(grad_mean.numpy(), [3.0, 3.0])
    eps = values(random.normal((3, 2), seed=4))
    np.testing.assert_allclose(grad_stddev.numpy(), eps.sum(0), rtol=1e-6)


def test_errors_say_what_to_pass():
    with pytest.raises(ValueError, match="randint"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.normal((2,), seed="7")
    with pytest.raises(ValueError, match="integer"):
        random.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="2-D"):
        random.categorical(ops.ones((3,)), 2)


def test_seed_generator_config_state_and_use_in_a_layer():
    generator = random.SeedGenerator(seed=1337, name="gen")
    assert generator.get_config() == {"seed": 1337}
    assert random.SeedGenerator.from_config(generator.get_config())._seed == 1337
    np.testing.assert_array_equal(values(generator.state), [1337, 0])
    random.normal((1,), seed=generator)
    np.testing.assert_array_equal(values(generator.state), [1337, 1])

    class NoisyDropout(keras.layers.Layer):
        """The Keras docs' example layer."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = random.SeedGenerator(1337)

        def call(self, x, training=False):
            if training:
                return random.dropout(x, rate=0.5, seed=self.seed_generator)
            return x

    layer = NoisyDropout()
    x = np.ones((2, 8), np.float32)
    a, b = values(layer(x, training=True)), values(layer(x, training=True))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(values(layer(x)), x)


def test_int_seed_draws_match_the_seeded_layers_and_initializers():
    x = np.ones((3, 5), np.float32)
    layer = keras.layers.Dropout(0.5, seed=7)
    np.testing.assert_array_equal(values(layer(x, training=True)),
                                  values(random.dropout(x, 0.5, seed=7)))
    initializer = keras.initializers.RandomUniform(-1.0, 1.0, seed=5)
    np.testing.assert_allclose(values(initializer((2, 3))),
                               values(random.uniform((2, 3), -1.0, 1.0, seed=5)), rtol=1e-6)
