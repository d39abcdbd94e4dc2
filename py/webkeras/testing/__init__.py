"""Test helpers shared by the layer tests (Keras's `run_layer_test`, smaller)."""

from webkeras.testing.layer_test import run_layer_test  # noqa: F401
