"""keras.Model: a Layer that trains. Subclass it, or call Model(inputs, outputs)."""

import warnings

from webkeras.layers.layer import Layer
from webkeras.models import file_io, model_config, summary
from webkeras.trainers import compile_config
from webkeras.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    `Model(inputs, outputs)` builds a functional model; a subclass defines `call` (and
    optionally `build`), and its layers and weights are tracked from its attributes.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs):
            from webkeras.models.functional import Functional

            return Functional(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        kwargs.pop("inputs", None)
        kwargs.pop("outputs", None)
        Layer.__init__(self, **kwargs)

    @property
    def layers(self):
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"only has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        summary.print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    def build(self, input_shape):
        """Subclassed models without a `build` are built by calling them once on zeros."""
        if type(self).call is not Model.call and not self.built:
            from webkeras.layers.keras_tensor import infer_output_shapes, symbolic_scope

            with symbolic_scope():
                infer_output_shapes(self, input_shape)
            # Losses added while running on placeholder zeros are not a forward pass's.
            self._clear_losses()
        self.built = True

    def reset_states(self):
        """Zeroes the carried state of every stateful layer (RNNs with `stateful=True`), as
        tf.keras 2's `Model.reset_states()` did."""
        for layer in self._flatten_layers(include_self=False):
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
                layer.reset_state()

    def get_config(self):
        # Subclasses that take constructor arguments must override this, as in Keras.
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (`layers`, `input_layers`, `output_layers`) revives a functional
        model; otherwise the config is passed to the constructor, as in Keras 3."""
        functional_keys = ("name", "layers", "input_layers", "output_layers")
        if cls is Model and all(key in config for key in functional_keys):
            from webkeras.models.functional import Functional

            return model_config.functional_from_config(Functional, config, custom_objects)
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(
                f"Unable to revive model {cls.__name__} from config. When overriding "
                "`get_config()`, return every argument of the constructor, or define a "
                f"`from_config(cls, config)` class method.\n\nReceived config={config}\n\n"
                f"Error encountered during deserialization: {error}") from error

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, **kwargs):
        # Recorded for `compile_config`, so a saved model compiles itself again on load.
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
                              "steps_per_execution": steps_per_execution,
                              "jit_compile": kwargs.get("jit_compile", "auto")}
        Trainer.compile(self, optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics,
                        weighted_metrics=weighted_metrics, run_eagerly=run_eagerly,
                        steps_per_execution=steps_per_execution, **kwargs)

    def get_compile_config(self):
        """The `compile()` arguments that saving stores as `compile_config` (None when not
        compiled). Override it with `compile_from_config` for a custom `compile()`."""
        return compile_config.get_compile_config(self)

    def compile_from_config(self, config):
        """Compiles the loaded model from `get_compile_config()`'s dict. As in Keras 3, a
        model whose `compile()` is custom is left uncompiled (with a warning) unless it
        overrides this method too."""
        if type(self).compile is not Model.compile:
            warnings.warn(
                f"`compile()` was not called as part of loading {type(self).__name__}: its "
                "`compile()` is custom. Override `compile_from_config(config)` (and "
                "`get_compile_config()`) to restore it, or call `compile()` after loading.",
                stacklevel=2)
            return
        compile_config.compile_from_config(self, config)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model as `.keras` (Keras 3's zip: config, weights, optimizer state) or
        legacy `.h5`. `keras.models.load_model(filepath)` restores it."""
        return file_io.saving().save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights (and optimizer state) to `.weights.h5` (Keras 3's layout) or
        legacy `.h5`; a checkpoint prefix becomes `<prefix>.weights.h5`, with a warning."""
        return file_io.saving().save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        """Loads `.weights.h5` (by Keras 3 path) or legacy `.h5` (by layer order, or by
        layer name with `by_name=True`), from webkeras or real Keras."""
        file_io.saving().load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def to_json(self, **kwargs):
        return model_config.model_to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """Returns a YAML string of the model's config: the same data as `to_json()`.

        Load it with `keras.models.model_from_yaml(yaml_string, custom_objects={...})`.
        It is what `yaml.safe_dump` writes, except that long lines are not folded.

        Args:
            **kwargs: `sort_keys` (default True) and `allow_unicode` (default False), as
                for `yaml.dump()`.
        """
        return model_config.model_to_yaml(self, **kwargs)
