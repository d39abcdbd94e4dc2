"""Host-side random numbers for initializers, shuffling and dropout masks.

`keras.utils.set_random_seed(seed)` makes runs repeatable: every unseeded draw comes from one
global generator, and seeded initializers get their own.
"""

import numpy as np

_global = [np.random.default_rng()]


def set_random_seed(seed):
    import random

    random.seed(seed)
    np.random.seed(seed)
    _global[0] = np.random.default_rng(seed)


def make_rng(seed=None):
    return np.random.default_rng(seed) if seed is not None else _global[0]
