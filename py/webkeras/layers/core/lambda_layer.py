"""Lambda: wraps an arbitrary function as a layer.

Deserialising one runs stored bytecode, so `from_config` refuses that unless safe mode is off
(Keras's rule); a function named by module resolves, unless safe mode is off, only through
custom objects or the pure tensor functions of `safe_functions`.
"""

import base64
import importlib
import inspect
import marshal
import types

from webkeras import activations, ops
from webkeras.layers.core import safe_functions
from webkeras.layers.layer import Layer
from webkeras.utils.file_errors import ModelFileError, UnknownObjectError, UnsafeContentError
from webkeras.utils.object_registry import get_registered_name, get_registered_object
from webkeras.utils.safe_mode import in_safe_mode

UNSAFE_LAMBDA_MESSAGE = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)


def _dump_function(fn):
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    return {"class_name": "__lambda__",
            "config": {"code": code, "defaults": fn.__defaults__, "closure": None}}


def _load_function(config):
    code = marshal.loads(base64.b64decode(config["code"]))
    defaults = tuple(config["defaults"]) if config.get("defaults") else None
    return types.FunctionType(code, globals(), code.co_name, defaults)


def _unsafe_function(module, name):
    """With `safe_mode=False` only: what the file's module holds under `name` (Keras's own
    modules, which webkeras does not have, are looked up in webkeras's ops / activations)."""
    if module.split(".")[0] == "keras":
        found = getattr(ops, name, None) or getattr(activations, name, None)
        if found is not None:
            return found
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError as error:
        raise UnknownObjectError(
            f"Could not locate function '{name}' (module '{module}') for a `Lambda` layer: "
            f"importing '{module}' failed ({error}). Pass the function in "
            f"`custom_objects={{'{name}': ...}}`.") from None


def _named_function(spec, custom_objects, safe_mode, layer_name=None):
    """The function of a `{"module", "config": name}` spec: a custom or registered object,
    else one of the pure tensor functions of `safe_functions`. Only with `safe_mode=False` is
    the named module imported, since that runs its code and hands the file anything in it."""

    name, module = spec.get("config"), spec.get("module") or ""
    if not isinstance(name, str) or not isinstance(module, str):
        raise ModelFileError(
            f"The `Lambda` layer '{layer_name}' names its function by "
            f"{{'module': {module!r}, 'config': {name!r}}}; expected two strings.")
    found = None
    for key in (spec.get("registered_name"), name):
        if found is None and isinstance(key, str) and key and key != "function":
            found = get_registered_object(key, custom_objects)
    if found is None:
        found = safe_functions.resolve(module, name)
    if found is None and not safe_mode and module:
        found = _unsafe_function(module, name)
    if found is not None:
        return found
    how = ("Pass it in `custom_objects={'" + name + "': ...}` or register it with "
           "`@keras.saving.register_keras_serializable()`")
    if safe_mode and module:
        raise UnsafeContentError(
            f"Could not locate function '{name}' (module '{module}') for the `Lambda` layer "
            f"'{layer_name}': safe mode resolves a function a file names only among "
            "keras.ops and keras.activations functions, or through custom objects, because "
            "importing the module a file names runs its code and hands the file whatever that "
            f"module holds. {how}, or, if you trust the file, load it with `safe_mode=False`.")
    raise UnknownObjectError(
        f"Could not locate function '{name}' (module '{module}') for the `Lambda` layer "
        f"'{layer_name}'. {how}.")


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
            # As Keras 3: a registered function is written by its "package>name".
            function = {"module": fn.__module__, "class_name": "function",
                        "config": get_registered_name(fn), "registered_name": "function"}
        config = {**super().get_config(), "function": function, "arguments": self.arguments}
        if self._output_shape is not None and not callable(self._output_shape):
            config["output_shape"] = tuple(self._output_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        function = config.pop("function")
        layer_name = config.get("name")
        if safe_mode is None:
            safe_mode = in_safe_mode()
        if isinstance(function, dict) and function.get("class_name") == "__lambda__":
            if safe_mode:
                raise UnsafeContentError(f"{UNSAFE_LAMBDA_MESSAGE} (layer '{layer_name}')")
            function = _load_function(function["config"])
        elif isinstance(function, dict):
            function = _named_function(function, custom_objects, safe_mode, layer_name)
        elif isinstance(function, str):
            found = get_registered_object(function, custom_objects)
            if found is None:
                raise UnknownObjectError(
                    f"Unknown function '{function}' in Lambda layer config. "
                    f"Pass `custom_objects={{'{function}': {function}}}`.")
            function = found
        elif not callable(function):
            raise ModelFileError(
                f"The `Lambda` layer '{layer_name}' has `function` {str(function)[:100]!r} "
                f"({type(function).__name__}); expected a dict naming a function "
                "(`{'module': ..., 'config': name}`) or a name in `custom_objects`.")
        return cls(function, **config)
