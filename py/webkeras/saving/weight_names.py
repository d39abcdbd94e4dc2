"""How Keras's HDF5 and TF.js formats list a layer's weights: trainable first, each named
`<layer>/<variable path>` and made unique by a trailing "_" (as tf.keras 2 wrote them)."""


def ordered_variables(layer):
    """Every variable of `layer` and its sub-layers, trainable first (Keras's order)."""
    variables = layer.weights
    return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]


def weight_names(layer, variables=None):
    """The saved names of `variables` (default: `ordered_variables(layer)`)."""
    names, seen = [], set()
    for variable in ordered_variables(layer) if variables is None else variables:
        name = getattr(variable, "path", None) or variable.name
        if not name.startswith(layer.name + "/"):
            name = f"{layer.name}/{name}"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    return names
