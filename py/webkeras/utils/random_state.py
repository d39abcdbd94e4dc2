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
