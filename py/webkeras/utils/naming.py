"""Unique, Keras-style object names: dense, dense_1, dense_2, ..."""

import re

_counts = {}


def to_snake_case(name):
    """Keras's default names: Conv2D -> conv2d, SimpleRNN -> simple_rnn."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def uniquify(prefix):
    count = _counts.get(prefix, 0)
    _counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_uids():
    _counts.clear()
