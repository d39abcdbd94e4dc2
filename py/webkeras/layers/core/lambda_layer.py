"""Lambda: wraps an arbitrary function as a layer. Deserialising one runs stored bytecode, so
`from_config` refuses unless safe mode is off (Keras's rule)."""

import base64
import contextlib
import importlib
import inspect
import marshal
import types

from webkeras.layers.layer import Layer

_safe_mode = [True]

UNSAFE_LAMBDA_MESSAGE = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)


def in_safe_mode():
    return _safe_mode[-1]


@contextlib.contextmanager
def safe_mode_scope(safe_mode=True):
    """Within the block, deserialisation runs in the given safe mode."""
    _safe_mode.append(bool(safe_mode) if safe_mode is not None else _safe_mode[-1])
    try:
        yield
    finally:
        _safe_mode.pop()


def enable_unsafe_deserialization():
    _safe_mode[0] = False


def _dump_function(fn):
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    return {"class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__, "closure": None}}


def _load_function(config):
    code = marshal.loads(base64.b64decode(config["code"]))
    defaults = tuple(config["defaults"]) if config.get("defaults") else None
    return types.FunctionType(code, globals(), code.co_name, defaults)


def _keras_function(module, name):
    """A function a Keras file names by module (`keras.src.ops.numpy`, `square`): webkeras's
    own of that name, or None."""
    if module.split(".")[0] == "webkeras":
        return getattr(importlib.import_module(module), name, None)
    from webkeras import activations, ops

    return getattr(ops, name, None) or getattr(activations, name, None)


def _named_function(spec, custom_objects, safe_mode):
    """The function of a `{"module", "config": name}` spec. As Keras does, only Keras's own
    modules are imported by name; anything else must be passed in `custom_objects` or
    registered, since importing a module named by a file runs that module's code."""
    from webkeras.saving.object_registry import get_registered_object

    name, module = spec.get("config"), spec.get("module") or ""
    found = None
    for key in (spec.get("registered_name"), name):
        if found is None and key and key != "function":
            found = get_registered_object(key, custom_objects)
    if found is None and module.split(".")[0] in ("keras", "webkeras"):
        found = _keras_function(module, name)
    if found is None and not safe_mode and module:
        found = getattr(importlib.import_module(module), name, None)
    if found is None:
        raise ValueError(
            f"Could not locate function '{name}' (module '{module}') for a `Lambda` layer. "
            "Pass it in `custom_objects={'" + str(name) + "': ...}` or register it with "
            "`@keras.saving.register_keras_serializable()`. Importing a module named by a "
            "file runs its code, so other modules are imported only with `safe_mode=False`.")
    return found


class Lambda(Layer):
    """`keras.layers.Lambda(lambda x: x ** 2)`; `output_shape` is inferred when omitted."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        params = inspect.signature(function).parameters if callable(function) else {}
        self._fn_takes_training = "training" in params
        self._fn_takes_mask = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        shape = tuple(self._output_shape)
        if isinstance(input_shape, (list, tuple)) and input_shape and \
                isinstance(input_shape[0], (list, tuple)):
            batch = input_shape[0][0]
        else:
            batch = input_shape[0]
        return (batch,) + shape

    def compute_mask(self, inputs, previous_mask):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def get_config(self):
        fn = self.function
        if getattr(fn, "__name__", "<lambda>") == "<lambda>" or \
                getattr(fn, "__qualname__", "").count("<locals>"):
            function = _dump_function(fn)
        else:
            function = {"module": fn.__module__, "class_name": "function",
                        "config": fn.__name__, "registered_name": "function"}
        config = {**super().get_config(), "function": function, "arguments": self.arguments}
        if self._output_shape is not None and not callable(self._output_shape):
            config["output_shape"] = tuple(self._output_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        function = config.pop("function")
        if safe_mode is None:
            safe_mode = in_safe_mode()
        if isinstance(function, dict) and function.get("class_name") == "__lambda__":
            if safe_mode:
                raise ValueError(UNSAFE_LAMBDA_MESSAGE)
            function = _load_function(function["config"])
        elif isinstance(function, dict):
            function = _named_function(function, custom_objects, safe_mode)
        elif isinstance(function, str):
            if not custom_objects or function not in custom_objects:
                raise ValueError(f"Unknown function '{function}' in Lambda layer config. "
                                 f"Pass `custom_objects={{'{function}': {function}}}`.")
            function = custom_objects[function]
        return cls(function, **config)
