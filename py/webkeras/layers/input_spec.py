"""InputSpec: the rank and axis sizes a layer accepts, checked with Keras's error wording."""

from webkeras.utils import tree


class InputSpec:
    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.optional = optional


def assert_input_compatibility(input_spec, inputs, layer_name):
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    flat = tree.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f"Layer '{layer_name}' expected {len(specs)} input(s). Received "
                         f"{len(flat)} instead.")
    for index, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None:
            continue
        shape = tuple(x.shape)
        ndim = len(shape)
        prefix = (f"Input {index} with name '{spec.name}' of layer '{layer_name}' is "
                  "incompatible with the layer: ")
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(prefix + f"expected ndim={spec.ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(prefix + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(prefix + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        for axis, value in spec.axes.items():
            if value is None or not -ndim <= axis < ndim:
                continue
            if shape[axis] not in {value, None}:
                raise ValueError(prefix + f"expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            for expected, actual in zip(spec.shape, shape):
                if expected is not None and actual is not None and expected != actual:
                    raise ValueError(prefix + f"expected shape={spec.shape}, found "
                                     f"shape={shape}")
