"""webkeras: Keras in Python, in a browser tab, on the GPU.

`import webkeras as keras` runs classic Keras tutorial code on NumPy or WebGPU.
"""

from webkeras import activations, backend, callbacks, datasets, initializers  # noqa: F401
from webkeras import constraints, layers, losses, metrics, models, ops, optimizers  # noqa: F401
from webkeras import data, preprocessing, random, regularizers, saving, utils  # noqa: F401
from webkeras.backend import Variable  # noqa: F401
from webkeras.layers import Input, Layer  # noqa: F401
from webkeras.models import Model, Sequential  # noqa: F401
from webkeras.ops.tape import GradientTape  # noqa: F401

# Keras 3 publishes the custom-object registry in keras.utils as well as in keras.saving; it
# lives in saving, above utils, so the alias is made here, where both are imported.
for _name in ("register_keras_serializable", "get_registered_name", "get_registered_object",
              "get_custom_objects", "custom_object_scope", "CustomObjectScope"):
    setattr(utils, _name, getattr(saving, _name))
del _name

__version__ = "0.1.0"
