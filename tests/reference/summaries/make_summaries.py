"""Writes <name>.txt with real Keras 3's `model.summary()` for each model in summary_models.

    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/summaries/make_summaries.py
"""

import os
import sys

import keras

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from summary_models import MODELS

HERE = os.path.dirname(os.path.abspath(__file__))

for name, builder in MODELS.items():
    keras.backend.clear_session()
    model = builder(keras)
    lines = []
    model.summary(print_fn=lambda line, *args, out=lines, **kwargs: out.append(line))
    with open(os.path.join(HERE, f"{name}.txt"), "w", encoding="utf-8") as f:
        f.write("".join(lines))
    print(name, len(lines), "lines")
