"""`keras.random.SeedGenerator` and how every `seed=` argument becomes a NumPy generator.

As in Keras 3, random functions are stateless given an integer seed (the same seed gives the
same values every call), a `SeedGenerator` advances its state on each draw (so a layer that
holds one gets new values each step, reproducibly), and seed=None draws from the global
generator that `keras.utils.set_random_seed` resets. Values are drawn on the host with
NumPy's PCG64 and uploaded, so a seed gives the same numbers on every backend.
"""

import numpy as np

from webkeras.utils import naming, random_state

# Seeds are mixed by NumPy's SeedSequence, which takes non-negative integers only.
_SEED_MASK = (1 << 64) - 1


def make_default_seed():
    """A fresh seed from the global generator (reproducible after set_random_seed)."""
    return int(random_state.make_rng().integers(1, 10**9))


class SeedGenerator:
    """Generates a new seed for each call of a random function it is passed to.

    Args:
        seed: int initial seed; None picks one from the global generator.
        name: optional name.

    Example:
    ```python
    seed_gen = keras.random.SeedGenerator(seed=42)
    values = keras.random.normal(shape=(2, 3), seed=seed_gen)
    new_values = keras.random.normal(shape=(2, 3), seed=seed_gen)  # different values
    ```
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or naming.uniquify("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self._seed = int(seed)
        self._counter = 0

    @property
    def state(self):
        """The current (seed, counter) pair as an int32 tensor (Keras keeps it in a
        variable; here it lives on the host, so drawing costs no device round trip)."""
        from webkeras import ops

        return ops.convert_to_tensor(
            np.array([self._seed & 0x7FFFFFFF, self._counter & 0x7FFFFFFF], np.int32))

    def next(self, ordered=True):
        """The (seed, counter) pair for this draw; advances the state."""
        pair = (self._seed, self._counter)
        self._counter += 1
        return pair

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name} seed={self._seed} draws={self._counter}>"


def draw_rng(seed):
    """The NumPy generator for one draw from `seed`: an int, a SeedGenerator, or None."""
    if isinstance(seed, SeedGenerator):
        pair = seed.next()
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        pair = (int(seed), 0)
    elif seed is None:
        return random_state.make_rng()
    else:
        raise ValueError("Argument `seed` must be either an integer or an instance of "
                         f"`SeedGenerator`. Received: seed={seed!r} (of type {type(seed)})")
    return np.random.default_rng([pair[0] & _SEED_MASK, pair[1] & _SEED_MASK])


def seeded_draw(seed, sample):
    """`sample(generator)` with the generator for one draw from `seed`, as a host draw
    (`random_state.host_draw`). The generator is picked, and a SeedGenerator advanced,
    inside the draw, so a traced step's replay advances it exactly as an eager step does:
    the same seed gives the same sequence either way."""
    return random_state.host_draw(lambda: sample(draw_rng(seed)))
