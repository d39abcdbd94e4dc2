"""YAML for tf.keras 2's `model.to_yaml()` / `keras.models.model_from_yaml`, through PyYAML.

Reading is PyYAML's SafeLoader (plain data only, nothing is imported or run) with three
changes for model files: tf.keras 2's `!!python/tuple` reads as a list (its shapes); dates
stay text, as in JSON; and anchors/aliases are refused, because an alias lets a few bytes
stand for an exponentially large config that the file limits would only see after the walk.
"""

import functools

# Text written by `dump`, as `to_yaml` always wrote it: block style, long lines never folded.
_DUMP_WIDTH = float("inf")


# PyYAML is imported on first use: it is a fifth of `import webkeras` in the tab, whose every
# page load would pay for it.
def _yaml():
    import yaml

    return yaml


@functools.cache
def _model_config_loader():
    yaml = _yaml()

    class ModelConfigLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise yaml.composer.ComposerError(
                    None, None, "anchors and aliases are not accepted in a model file",
                    event.start_mark)
            return super().compose_node(parent, index)

        def construct_python_tuple(self, node):
            if not isinstance(node, yaml.SequenceNode):
                raise yaml.constructor.ConstructorError(
                    None, None, f"!!python/tuple must tag a sequence, found a {node.id}",
                    node.start_mark)
            return self.construct_sequence(node)

    ModelConfigLoader.add_constructor("tag:yaml.org,2002:python/tuple",
                                      ModelConfigLoader.construct_python_tuple)
    ModelConfigLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                      yaml.SafeLoader.construct_scalar)
    return ModelConfigLoader


def dump(data, sort_keys=True, allow_unicode=False):
    """YAML text of JSON-like `data`, as `yaml.safe_dump(..., width=inf)` writes it."""
    return _yaml().safe_dump(data, sort_keys=sort_keys, allow_unicode=allow_unicode,
                          width=_DUMP_WIDTH)


def load(text):
    """The plain data of one YAML document (str, bytes or an open file); a `ValueError`
    naming the line and column for anything else."""
    yaml = _yaml()
    try:
        return yaml.load(text, Loader=_model_config_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ValueError(f"Invalid YAML{_where(error)}: {_problem(error)}") from None
    except RecursionError:
        raise ValueError("Invalid YAML: nested too deeply to read") from None


def _where(error):
    mark = getattr(error, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _problem(error):
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return f"{problem} ({context})" if context else problem
