"""A model's `compile()` arguments as Keras 3's `compile_config`, and back."""

from webkeras import losses, metrics, optimizers
from webkeras.utils import object_registry, serialization_lib
from webkeras.utils.file_errors import UnknownObjectError


def _serialize(obj):
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_serialize(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _serialize(v) for k, v in obj.items()}
    # Objects as `{"module", "class_name", "config"}`; a plain function (`loss=my_loss`) as
    # Keras 3's `{"class_name": "function", "config": "my_loss"}`, found again on load
    # through custom_objects or the registry.
    return serialization_lib.serialize_keras_object(obj)


def get_compile_config(model):
    """The dict Keras 3 stores under `compile_config`, or None if `model` is not compiled."""
    args = getattr(model, "_compile_args", None)
    if not getattr(model, "compiled", False) or args is None:
        return None
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _serialize(args.get("loss")),
        "loss_weights": _serialize(args.get("loss_weights")),
        "metrics": _serialize(args.get("metrics")),
        "weighted_metrics": _serialize(args.get("weighted_metrics")),
        "run_eagerly": bool(args.get("run_eagerly", False)),
        "steps_per_execution": args.get("steps_per_execution", 1),
        "jit_compile": args.get("jit_compile", "auto"),
    }


def _deserialize(value, kind, custom_objects):
    module = losses if kind == "loss" else metrics
    if isinstance(value, list):
        return [_deserialize(v, kind, custom_objects) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _deserialize(v, kind, custom_objects) for k, v in value.items()}
    if isinstance(value, dict) and value["class_name"] == serialization_lib.FUNCTION_CLASS:
        name = value.get("config")
        fn = serialization_lib.find_function(name, (module.__name__.split(".")[-1],),
                                             custom_objects)
        if fn is None:
            raise UnknownObjectError(
                f"Could not locate the {kind} function '{name}' of the saved compile config. "
                f"Pass `custom_objects={{'{name}': {name}}}` to the loading function or "
                "decorate it with `@keras.saving.register_keras_serializable()`.")
        return fn
    if isinstance(value, dict):
        cls = (object_registry.get_registered_object(value.get("registered_name") or "",
                                                     custom_objects)
               or object_registry.get_registered_object(value["class_name"], custom_objects))
        if cls is not None:
            return cls.from_config(dict(value.get("config", {})))
        return module.deserialize(value, custom_objects)
    if isinstance(value, str):
        custom = object_registry.get_registered_object(value, custom_objects)
        return custom if custom is not None else value
    return value


def compile_from_config(model, config, custom_objects=None):
    """Calls `model.compile` with the arguments `config` records."""
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        merged = object_registry.active_custom_objects(custom_objects)
        optimizer = optimizers.deserialize(optimizer, merged)
    model.compile(
        optimizer=optimizer if optimizer is not None else "rmsprop",
        loss=_deserialize(config.get("loss"), "loss", custom_objects),
        loss_weights=config.get("loss_weights"),
        metrics=_deserialize(config.get("metrics"), "metric", custom_objects),
        weighted_metrics=_deserialize(config.get("weighted_metrics"), "metric",
                                      custom_objects),
        run_eagerly=bool(config.get("run_eagerly", False)),
        # True is XLA's promise in Keras; here it would make any step that cannot be traced an
        # error, so a file's True means "trace where possible".
        jit_compile=False if config.get("jit_compile") is False else "auto",
    )
