"""Host-side random numbers for initializers, shuffling, dropout masks and noise.

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


# Told of every host draw a step makes (see `host_draw`): a step plan being recorded
# registers here, so that its replay draws again instead of reusing the recorded values.
draw_watchers = []


def host_draw(draw):
    """`draw()` (host values from a generator, as the array a layer uploads), run now.

    A layer draws per-step noise (dropout masks) through this, so a traced step
    (`compile(jit_compile=...)`) calls `draw` again at each replay: fresh values, from the
    same generator in the same order as an eager step takes them.
    """
    values = draw()
    for watch in draw_watchers:
        watch(values, draw)
    return values


def host_sample(rng, sample):
    """`sample(generator)` as a host draw, from `rng` or, where it is None, from the global
    generator current at each draw (`set_random_seed` may replace it between steps)."""
    return host_draw(lambda: sample(rng or make_rng()))


def dropout_scale(rng, shape, rate, dtype):
    """A dropout multiplier: 0 with probability `rate`, else 1 / (1 - rate) (0 everywhere
    for rate 1), as a `dtype` array (the one test every dropout in webkeras uses, so a seed
    drops the same units in each)."""
    keep = rng.random(shape) >= rate
    return np.asarray(keep / (1.0 - rate) if rate < 1 else np.zeros(shape), dtype=dtype)
