"""keras.models (`load_model`, `model_from_json` and `model_from_yaml` come from saving: see
webkeras/__init__.py)."""

# ruff: noqa: F401  (re-exports)
from webkeras.layers.serialization import register_builtin_layers
from webkeras.models.cloning import clone_model
from webkeras.models.functional import Functional
from webkeras.models.model import Model
from webkeras.models.sequential import Sequential

register_builtin_layers({"Functional": Functional, "Model": Model, "Sequential": Sequential})
