"""Safe mode: whether deserialisation may run code a file carries (Keras's `safe_mode`).

One flag for every loader, kept here at the bottom so that each layer of the package reads the
same one: a load sets it for its duration, `Lambda.from_config` and the function lookup obey it.
"""

import contextlib

_safe_mode = [True]


def in_safe_mode():
    return _safe_mode[-1]


@contextlib.contextmanager
def safe_mode_scope(safe_mode=True):
    """Within the block, deserialisation runs in the given safe mode."""
    _safe_mode.append(bool(safe_mode) if safe_mode is not None else _safe_mode[-1])
    try:
        yield
    finally:
        _safe_mode.pop()


def enable_unsafe_deserialization():
    _safe_mode[0] = False
