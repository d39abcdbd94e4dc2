"""webkeras: Keras in Python, in a browser tab, on the GPU.

`import webkeras as keras` runs classic Keras tutorial code on NumPy or WebGPU.
"""

# ruff: noqa: F401  (the public namespace)
from webkeras import (
    activations,
    applications,
    backend,
    callbacks,
    constraints,
    data,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from webkeras.layers import Input, Layer
from webkeras.layers.keras_tensor import KerasTensor
from webkeras.models import Model, Sequential
from webkeras.ops import legacy_backend
from webkeras.ops.tape import GradientTape
from webkeras.ops.tensor import Variable
from webkeras.saving import architecture


# Public namespaces with members built above them are completed here, where the whole package
# is imported: keras.models' loaders live in saving, and keras.backend (tf.keras 2's `K`) holds
# functions built on ops and layers, after its own Keras 3 names, which come first.
def _is_keras_tensor(x):
    return isinstance(x, KerasTensor)


models.load_model = saving.load_model
models.model_from_json = architecture.model_from_json
models.model_from_yaml = architecture.model_from_yaml
backend.is_keras_tensor = _is_keras_tensor
for _name, _function in legacy_backend.FUNCTIONS.items():
    if not hasattr(backend, _name):
        setattr(backend, _name, _function)
del _name, _function

__version__ = "0.1.0"
