"""Custom objects: `register_keras_serializable`, `custom_object_scope`, lookup by name."""

import contextlib

# "package>ClassName" -> class, as Keras registers them.
_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_SCOPES = []


def register_keras_serializable(package="Custom", name=None):
    """Decorator: makes a class (or function) loadable by name from saved configs.

    Example:
    ```python
    @keras.saving.register_keras_serializable(package="my_pkg")
    class MyLayer(keras.layers.Layer): ...
    ```
    """

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if registered_name in _GLOBAL_CUSTOM_OBJECTS:
            raise ValueError(f"{registered_name} has already been registered to "
                             f"{_GLOBAL_CUSTOM_OBJECTS[registered_name]}")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name `obj` was registered under, else its own `__name__`."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks `name` up in the active scopes, `custom_objects`, the registry, then
    `module_objects`; None when absent."""
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def get_custom_objects():
    """The global registry dict (`name -> object`); it can be edited directly."""
    return _GLOBAL_CUSTOM_OBJECTS


def active_custom_objects(custom_objects=None):
    """Every custom object visible now: registry, then scopes, then `custom_objects`."""
    merged = dict(_GLOBAL_CUSTOM_OBJECTS)
    for scope in _SCOPES:
        merged.update(scope)
    merged.update(custom_objects or {})
    return merged


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """`with keras.saving.custom_object_scope({'MyLayer': MyLayer}): load_model(...)`."""
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()


CustomObjectScope = custom_object_scope
