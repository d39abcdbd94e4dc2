"""The hooks Keras 3's saving calls on every layer: `save_own_variables(store)` and
`load_own_variables(store)`.

`store` is a dict-like view of the layer's `vars` group in the weights file: keys `"0"`,
`"1"`, ... hold the layer's own variables (trainable ones first, then non-trainable ones, as
Keras 3 orders them). A layer overrides both hooks to save extra state or a different
layout; overriding `save_assets(dir_path)` / `load_assets(dir_path)` (no default, as in
Keras 3) stores files in the `.keras` archive's `assets/` folder.
"""


class SavingHooks:
    """Mixed into Layer: the default state hooks."""

    def _state_variables(self):
        """This layer's own variables in the order the weights file stores them."""
        variables = list(self._layer_variables())
        return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]

    def save_own_variables(self, store):
        """Writes this layer's own variables into `store` as `"0"`, `"1"`, ..."""
        for i, variable in enumerate(self._state_variables()):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Assigns this layer's own variables from `store`'s `"0"`, `"1"`, ...

        Raises:
            ValueError: `store` holds another number of variables than the layer has.
        """
        variables = self._state_variables()
        if len(store.keys()) != len(variables):
            raise ValueError(
                f"Layer '{self.name}' expected {len(variables)} variables, but received "
                f"{len(store.keys())} variables during loading. "
                f"Expected: {[v.name for v in variables]}")
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])
