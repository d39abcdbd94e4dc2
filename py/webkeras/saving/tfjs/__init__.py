"""TF.js layers models: `model.json` + binary shards, written for and read from TF.js 4.22."""

# ruff: noqa: F401  (re-exports)
from webkeras.saving.tfjs.convert import convert
from webkeras.saving.tfjs.format import DEFAULT_SHARD_SIZE, MODEL_JSON
from webkeras.saving.tfjs.layers_model import load_tfjs, save_tfjs
