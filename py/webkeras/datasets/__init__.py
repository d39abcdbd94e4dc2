"""keras.datasets."""

from webkeras.datasets import mnist  # noqa: F401
