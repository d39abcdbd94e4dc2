"""keras.ops: NumPy-style and neural-network ops, each with its gradient."""

from webkeras.ops.core import (  # noqa: F401
    cast,
    convert_to_numpy,
    convert_to_tensor,
    shape,
    stop_gradient,
)
from webkeras.ops.array import (  # noqa: F401
    concatenate, flip, getitem, moveaxis, pad, repeat, scatter_add_along, slice_scatter, split,
    stack, strided_slice, take, tile, unstack,
)
from webkeras.ops.array import slice_block as slice  # noqa: F401
from webkeras.ops.conv import (  # noqa: F401
    conv, conv_transpose, depthwise_conv, separable_conv,
)
from webkeras.ops.pooling import average_pool, max_pool  # noqa: F401
from webkeras.ops.nn import *  # noqa: F401,F403
from webkeras.ops.numpy import *  # noqa: F401,F403
from webkeras.ops.numpy import abs, max, min, sum  # noqa: F401  (shadow builtins on purpose)
from webkeras.ops.tape import GradientTape  # noqa: F401
