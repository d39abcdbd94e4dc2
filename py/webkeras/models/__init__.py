"""keras.models."""

# ruff: noqa: F401  (re-exports)
from webkeras.models.cloning import clone_model
from webkeras.models.functional import Functional
from webkeras.models.model import Model
from webkeras.models.model_config import model_from_json, model_from_yaml
from webkeras.models.sequential import Sequential
from webkeras.saving.saving_api import load_model
