"""`keras.models.clone_model`: a new model with the same architecture and fresh weights."""

from webkeras.utils import object_registry


def _clone_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """Clones a model: same layers and connections, newly initialized weights, as Keras does
    (no compile state, no weight values are copied).

    Args:
        model: a Sequential, functional or subclassed model.
        input_tensors: for a Sequential model, an `Input` the clone starts from.
        clone_function: for a Sequential model, `layer -> new layer` (default: the layer
            rebuilt from its config). `lambda layer: layer` shares a layer.
        call_function, recursive: Keras's functional-graph options, not supported here.

    Returns:
        The new model.

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> twin = keras.models.clone_model(model)
    """
    from webkeras.layers.input_layer import InputLayer
    from webkeras.models.sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model() got unexpected arguments {sorted(kwargs)}")
    if call_function is not None or recursive:
        raise NotImplementedError(
            "clone_model(call_function=..., recursive=True) is not supported by webkeras: "
            "rebuild the model with the functional API instead.")
    if isinstance(model, Sequential):
        clone_function = clone_function or _clone_layer
        layers = [clone_function(layer) for layer in model.layers
                  if not isinstance(layer, InputLayer)]
        if input_tensors is not None:
            clone = Sequential([input_tensors, *layers], name=model.name)
        else:
            clone = Sequential(layers, name=model.name)
            if model._input_batch_shape is not None:
                clone._input_batch_shape = tuple(model._input_batch_shape)
                clone._input_dtype = model._input_dtype
                clone.build(clone._input_batch_shape)
        return clone
    if clone_function is not None or input_tensors is not None:
        raise NotImplementedError(
            "clone_model(clone_function=..., input_tensors=...) is supported for Sequential "
            f"models only; got a {type(model).__name__}. Clone it without them, or rebuild it "
            "with the functional API.")
    # Functional and subclassed models: the config round trip Keras uses.
    with object_registry.custom_object_scope({type(model).__name__: type(model)}):
        return model.__class__.from_config(model.get_config())
