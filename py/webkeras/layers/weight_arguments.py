"""`Layer.add_weight`'s positional forms: Keras 3's and tf.keras 2's (name first)."""

_WEIGHT_ARGS = ("shape", "initializer", "dtype")
_LEGACY_WEIGHT_ARGS = ("name", "shape", "dtype", "initializer", "regularizer", "trainable",
                       "constraint")


def positional_weight_arguments(args, layer_name, given):
    """`given` (add_weight's keyword values) with `args` filled in by position.

    The order is Keras 3's `(shape, initializer, dtype)`, or tf.keras 2's when the first
    argument is a string (`self.add_variable("kernel", shape=[n, m])`).
    """
    order = _LEGACY_WEIGHT_ARGS if isinstance(args[0], str) else _WEIGHT_ARGS
    if len(args) > len(order):
        raise TypeError(f"add_weight() takes at most {len(order)} positional "
                        f"arguments in this form, but {len(args)} were given.")
    given = dict(given)
    defaults = {"trainable": True}
    for key, value in zip(order, args):
        if given[key] is not defaults.get(key):
            raise TypeError(f"`{key}` was passed both positionally and as a keyword "
                            f"argument to add_weight() of layer '{layer_name}'.")
        given[key] = value
    return given
