"""keras.ops: NumPy-style and neural-network ops, each with its gradient."""

from webkeras.ops.core import (  # noqa: F401
    cast,
    convert_to_numpy,
    convert_to_tensor,
    shape,
    stop_gradient,
)
from webkeras.ops.nn import *  # noqa: F401,F403
from webkeras.ops.numpy import *  # noqa: F401,F403
from webkeras.ops.numpy import abs, max, min, sum  # noqa: F401  (shadow builtins on purpose)
from webkeras.ops.tape import GradientTape  # noqa: F401
