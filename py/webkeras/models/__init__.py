"""keras.models."""

from webkeras.models.model import Model  # noqa: F401
from webkeras.models.sequential import Sequential  # noqa: F401
