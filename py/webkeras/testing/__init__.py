"""Test helpers shared by the layer tests (Keras's `run_layer_test`, smaller)."""

# ruff: noqa: F401  (re-exports)
from webkeras.testing.layer_test import run_layer_test
