"""keras.layers."""

from webkeras.layers.core.activation import Activation  # noqa: F401
from webkeras.layers.core.dense import Dense  # noqa: F401
from webkeras.layers.input_layer import Input, InputLayer  # noqa: F401
from webkeras.layers.keras_tensor import KerasTensor  # noqa: F401
from webkeras.layers.layer import Layer  # noqa: F401
from webkeras.layers.reshaping.flatten import Flatten  # noqa: F401
