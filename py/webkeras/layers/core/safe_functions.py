"""The functions a model file may name for a `Lambda` layer, in safe mode.

Keras writes a Lambda's function as `{"module": "keras.src.ops.numpy", "config": "square"}`.
Resolving that with `import_module(module)` + `getattr` would hand a file whatever any module
holds (`webkeras.utils.download.get_file` downloads a URL into a folder the file picks, with
arguments the file supplies), so unless the caller passes `safe_mode=False` a named function
resolves only from the explicit tables below: pure tensor functions of `keras.ops` and
`keras.activations` as webkeras implements them. Anything else must come through
`custom_objects` or `register_keras_serializable`.

Example:
```python
from webkeras.layers.core import safe_functions

safe_functions.resolve("keras.src.ops.numpy", "square")  # webkeras.ops.square
safe_functions.resolve("webkeras.utils.download", "get_file")  # None: not allowed
```
"""

import functools
import inspect

from webkeras import activations, ops

# keras.ops functions webkeras implements: each takes tensors and returns tensors, and touches
# nothing outside them. A name missing here is refused in safe mode, so add new ops here.
OPS_FUNCTIONS = (
    "abs", "absolute", "add", "all", "amax", "amin", "angle", "any", "append", "arange",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax",
    "argmin", "argpartition", "argsort", "array_split", "average", "average_pool", "bartlett",
    "batch_normalization", "binary_crossentropy", "bincount", "blackman", "broadcast_to",
    "cast", "categorical_crossentropy", "cbrt", "ceil", "celu", "clip", "concatenate", "conj",
    "conjugate", "conv", "conv_transpose", "convert_to_numpy", "convert_to_tensor", "copy",
    "corrcoef", "correlate", "cos", "cosh", "count_nonzero", "cross", "cumprod", "cumsum",
    "deg2rad", "depth_to_space", "depthwise_conv", "diag", "diagflat", "diagonal", "diff",
    "digitize", "divide", "divide_no_nan", "dot", "dot_product_attention", "dstack", "dtype",
    "einsum", "elu", "empty", "empty_like", "equal", "erf", "exp", "exp2", "expand_dims",
    "expm1", "eye", "flip", "floor", "floor_divide", "full", "full_like", "gelu", "get_item",
    "getitem", "glu", "greater", "greater_equal", "hamming", "hanning", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "heaviside", "hsplit", "hstack",
    "hypot", "identity", "imag", "in_top_k", "inner", "is_tensor", "isclose", "isfinite",
    "isin", "isinf", "isnan", "isneginf", "isposinf", "isreal", "kaiser", "kron",
    "layer_normalization", "ldexp", "leaky_relu", "less", "less_equal", "linspace", "log",
    "log10", "log1p", "log2", "log_sigmoid", "log_softmax", "logaddexp", "logaddexp2",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logspace", "logsumexp",
    "matmul", "max", "max_pool", "maximum", "mean", "median", "meshgrid", "min", "minimum",
    "mish", "mod", "moments", "moveaxis", "multi_hot", "multiply", "nan_to_num", "nanmax",
    "nanmean", "nanmin", "nanprod", "nansum", "ndim", "negative", "nonzero", "norm",
    "normalize", "not_equal", "one_hot", "ones", "ones_like", "outer", "pad", "power", "prod",
    "psnr", "ptp", "quantile", "rad2deg", "ravel", "real", "reciprocal", "relu", "relu6",
    "remainder", "repeat", "reshape", "rms_normalization", "roll", "rot90", "round", "rsqrt",
    "saturate_cast", "scatter", "scatter_update", "searchsorted", "segment_max", "segment_sum",
    "select", "selu", "separable_conv", "shape", "sigmoid", "sign", "signbit", "silu", "sin",
    "sinh", "size", "slice", "slice_update", "soft_shrink", "softmax", "softplus", "softsign",
    "sort", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "split", "sqrt", "square", "squareplus", "squeeze", "stack",
    "std", "stop_gradient", "strided_slice", "subtract", "sum", "swapaxes", "swish", "take",
    "take_along_axis", "tan", "tanh", "tanh_shrink", "tensordot", "threshold", "tile", "top_k",
    "trace", "transpose", "trapezoid", "tri", "tril", "triu", "true_divide", "trunc",
    "unravel_index", "unstack", "vander", "var", "vdot", "vsplit", "vstack", "where", "zeros",
    "zeros_like",
)
# Public functions of `webkeras.ops` that belong to its autodiff machinery or dtype rules, not
# to keras.ops: never named by a Keras file, so not allowed (a test checks that every public
# function of `webkeras.ops` is in exactly one of these two lists).
OPS_HELPERS = ("broadcast_shapes", "scatter_add_along", "slice_scatter", "unbroadcast")
# keras.ops control flow takes Python functions as arguments and calls them: a file can only
# pass JSON values, and Keras files never name these for a Lambda, so they are not allowed.
OPS_CONTROL_FLOW = (
    "associative_scan", "cond", "custom_gradient", "fori_loop", "map", "scan", "switch",
    "vectorized_map", "while_loop",
)

ACTIVATION_FUNCTIONS = (
    "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
    "linear", "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax",
    "softplus", "softsign", "swish", "tanh",
)
# `keras.activations`' lookup functions: they return functions rather than compute one.
ACTIVATION_HELPERS = ("deserialize", "get", "serialize")

# Where each table's functions must be defined (checked when the table is built).
OPS_MODULE, ACTIVATIONS_MODULE = "webkeras.ops", "webkeras.activations"


def _table(namespace, names, home):
    """`{name: function}` for `names` in `namespace`, each also under its own `__name__` (what
    webkeras's `Lambda.get_config` writes: `ops.slice` is `slice_block`)."""
    table = {}
    for name in names:
        fn = getattr(namespace, name)
        defined_in = getattr(fn, "__module__", "") or ""
        if not inspect.isfunction(fn) or not (defined_in == home
                                               or defined_in.startswith(home + ".")):
            raise RuntimeError(f"safe_functions lists '{home}.{name}', but that is "
                               f"{fn!r} from module '{defined_in}': only functions defined "
                               f"in {home} may be allowed. Fix the list.")
        table[name] = fn
        table.setdefault(fn.__name__, fn)
    return table


@functools.cache
def tables():
    """`(ops, activations)`: the two `{name: function}` tables safe mode resolves from."""
    return (_table(ops, OPS_FUNCTIONS, OPS_MODULE),
            _table(activations, ACTIVATION_FUNCTIONS, ACTIVATIONS_MODULE))


def allowed():
    """Every function safe mode may hand to a Lambda layer."""
    ops_table, activations_table = tables()
    return {id(fn): fn for fn in (*ops_table.values(), *activations_table.values())}.values()


def resolve(module, name):
    """The allowed function a file names by `module` and `name`, or None.

    A `keras.*` module is matched by name alone, since Keras versions move functions between
    modules (`keras.src.ops.numpy`, `keras.src.activations.activations`); a `webkeras.*`
    module must be the namespace or the module that defines the function.
    """
    if not isinstance(module, str) or not isinstance(name, str):
        return None
    ops_table, activations_table = tables()
    root = module.split(".")[0]
    if root == "keras":
        # `relu` is in both: a Keras activations module means the activation.
        if "activations" in module.split("."):
            return activations_table.get(name) or ops_table.get(name)
        return ops_table.get(name) or activations_table.get(name)
    if module == OPS_MODULE:
        return ops_table.get(name)
    if module == ACTIVATIONS_MODULE:
        return activations_table.get(name)
    if root == "webkeras":
        for table in (ops_table, activations_table):
            fn = table.get(name)
            if fn is not None and fn.__module__ == module:
                return fn
    return None

