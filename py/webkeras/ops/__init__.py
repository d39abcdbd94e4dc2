"""keras.ops: NumPy-style and neural-network ops, each with its gradient."""

from webkeras.ops.core import (  # noqa: F401
    cast,
    convert_to_numpy,
    convert_to_tensor,
    dtype,
    is_tensor,
    saturate_cast,
    shape,
    stop_gradient,
)
from webkeras.ops.array import (  # noqa: F401
    concatenate, flip, getitem, moveaxis, pad, repeat, scatter_add_along, slice_scatter, split,
    stack, strided_slice, take, take_along_axis, tile, unstack,
)
from webkeras.ops.array import getitem as get_item  # noqa: F401
from webkeras.ops.array import slice_block as slice  # noqa: F401
from webkeras.ops.conv import (  # noqa: F401
    conv, conv_transpose, depthwise_conv, separable_conv,
)
from webkeras.ops.pooling import average_pool, max_pool  # noqa: F401
from webkeras.ops.nn import *  # noqa: F401,F403
from webkeras.ops.numpy import *  # noqa: F401,F403
from webkeras.ops.numpy import abs, max, min, sum  # noqa: F401  (shadow builtins on purpose)
from webkeras.ops.creation import (  # noqa: F401
    arange, bartlett, blackman, copy, diag, diagflat, diagonal, empty, empty_like, eye,
    full_like, hamming, hanning, identity, kaiser, linspace, logspace, meshgrid, trace, tri,
    tril, triu, vander,
)
from webkeras.ops.elementwise import (  # noqa: F401
    angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cbrt, ceil, conj,
    conjugate, cos, cosh, deg2rad, exp2, expm1, floor, floor_divide, heaviside, hypot, imag,
    isclose, isfinite, isinf, isnan, isneginf, isposinf, isreal, ldexp, log1p, log2, log10,
    logaddexp, logaddexp2, logical_and, logical_not, logical_or, logical_xor, mod, nan_to_num,
    rad2deg, real, remainder, round, rsqrt, select, signbit, sin, sinh, tan, trunc,
)
from webkeras.ops.reductions import (  # noqa: F401
    all, any, argmin, average, count_nonzero, cumprod, cumsum, diff, logsumexp, median,
    nanmax, nanmean, nanmin, nanprod, nansum, prod, ptp, quantile, std, trapezoid, var,
)
from webkeras.ops.sorting import (  # noqa: F401
    argpartition, argsort, bincount, digitize, in_top_k, isin, nonzero, searchsorted, sort,
    top_k,
)
from webkeras.ops.shape_ops import (  # noqa: F401
    append, array_split, dstack, hsplit, hstack, ndim, ravel, roll, rot90, unravel_index,
    vsplit, vstack,
)
from webkeras.ops.contraction import (  # noqa: F401
    corrcoef, correlate, cross, einsum, inner, kron, outer, tensordot, vdot,
)
from webkeras.ops.linalg import norm  # noqa: F401
from webkeras.ops.scatter import (  # noqa: F401
    scatter, scatter_update, segment_max, segment_sum, slice_update,
)
from webkeras.ops.control_flow import (  # noqa: F401
    associative_scan, cond, custom_gradient, fori_loop, map, scan, switch, vectorized_map,
    while_loop,
)
from webkeras.ops.nn_composite import (  # noqa: F401
    batch_normalization, depth_to_space, dot_product_attention, layer_normalization,
    normalize, psnr, rms_normalization, space_to_depth,
)
from webkeras.ops import image, linalg  # noqa: F401,E402
from webkeras.ops.tape import GradientTape  # noqa: F401
