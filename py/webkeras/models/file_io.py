"""How `Model.save`, `save_weights` and `load_weights` reach the saving package.

Saving sits above models (it builds whole models from files), so models cannot import it;
`webkeras.saving` hands its functions over here when it is imported, which `import webkeras`
always does.
"""

_saving = []


def provide(saving_functions):
    """Called once by `webkeras.saving`: an object with `save_model`, `save_weights` and
    `load_weights`."""
    _saving[:] = [saving_functions]


def saving():
    if not _saving:
        raise RuntimeError("Saving a model needs `webkeras.saving`, which is not imported: "
                           "`import webkeras` imports it.")
    return _saving[0]
