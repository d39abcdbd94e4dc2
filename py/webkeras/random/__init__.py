"""keras.random: seeded sampling functions and `SeedGenerator`."""

from webkeras.random.distributions import (  # noqa: F401
    beta, binomial, categorical, dropout, gamma, normal, randint, shuffle, truncated_normal,
    uniform,
)
from webkeras.random.seed_generator import SeedGenerator, draw_rng  # noqa: F401
