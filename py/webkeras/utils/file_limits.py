"""How much a model file may declare before webkeras reads it: one table, checked early.

Each limit is sized well above real models (a ResNet-152 config is ~0.5 MB and ~500 layers)
and far below what would take a machine down. Raise one for a single process with its
environment variable, or for a block of code with `override`:

    WEBKERAS_MAX_CONFIG_BYTES=200000000 python train.py
    with file_limits.override(layers=50_000): model = keras.saving.load_model(path)
"""

import contextlib
import json
import os

from webkeras.utils.file_errors import FileLimitError, ModelFileError

MiB = 1024 ** 2
GiB = 1024 ** 3


class Limit:
    def __init__(self, name, default, unit, what):
        self.name, self.default, self.unit, self.what = name, default, unit, what
        self.env = "WEBKERAS_MAX_" + name.upper()


LIMITS = {limit.name: limit for limit in (
    Limit("config_bytes", 64 * MiB, "bytes", "size of the architecture JSON"),
    Limit("config_depth", 100, "levels", "nesting depth of the architecture JSON"),
    Limit("layers", 20_000, "layers", "layer count, nested models included"),
    Limit("weight_bytes", 4 * GiB, "bytes", "size of all weights in the file together"),
    Limit("member_bytes", 4 * GiB, "bytes", "unpacked size of the archive member"),
    Limit("unpacked_bytes", 4 * GiB, "bytes", "unpacked size of the archive's members "
          "together"),
    # Keras writes `.keras` members uncompressed; weights deflate to ~1.1:1 at best.
    Limit("compression_ratio", 100, "to 1", "compression ratio of an archive member "
          "over 1 MiB"),
    Limit("array_bytes", 4 * GiB, "bytes", "size of one array a config or file declares"),
    Limit("hdf5_objects", 1_000_000, "objects", "count of HDF5 groups, datasets and links"),
)}
_overrides = []


def get(name):
    """The limit `name` in force: the innermost `override`, else its variable, else default."""
    for scope in reversed(_overrides):
        if name in scope:
            return scope[name]
    limit = LIMITS[name]
    text = os.environ.get(limit.env, "").strip()
    if not text:
        return limit.default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"${limit.env} must be a positive whole number ({limit.unit}); "
                         f"received {text[:40]!r}.")
    return value


@contextlib.contextmanager
def override(**values):
    """Limits for the code inside the block, e.g. `override(layers=50_000)`."""
    unknown = sorted(set(values) - set(LIMITS))
    if unknown:
        raise ValueError(f"Unknown file limit(s) {unknown}; expected some of {sorted(LIMITS)}.")
    _overrides.append(dict(values))
    try:
        yield
    finally:
        _overrides.pop()


def check(name, value, source):
    """Raises FileLimitError when `value` is over the limit `name`.

    Args:
        name: a key of LIMITS, e.g. "config_bytes".
        value: what the file declares or holds.
        source: the file and field, e.g. "'model.keras' member 'config.json'".
    """
    allowed = get(name)
    if value <= allowed:
        return
    limit = LIMITS[name]
    finding = f"{source}: {limit.what}: {value:,} {limit.unit}, over the limit of {allowed:,}"
    raise FileLimitError(
        f"{finding}. A damaged or crafted file? If you trust it, raise the limit with "
        f"${limit.env} or `webkeras.utils.file_limits.override({name}=...)`.", finding)


def check_json_depth(value, source):
    """Raises FileLimitError when the JSON value nests deeper than `config_depth`.

    Iterative, so any depth is measured without recursion.
    """
    allowed = get("config_depth")
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > allowed:
            check("config_depth", depth, source)
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend((child, depth + 1) for child in node)


def count_layers(config):
    """How many layers a config lists (the entries of every `layers` list, at any depth)."""
    count, stack = 0, [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            layers = node.get("layers")
            count += len(layers) if isinstance(layers, list) else 0
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return count


def check_config(config, source):
    """Depth and layer count of an architecture (a parsed JSON value), before building it."""
    check_json_depth(config, source)
    check("layers", count_layers(config), source)


def load_json(data, source):
    """The JSON value in `data` (bytes or str), its size and depth checked.

    Raises FileLimitError over `config_bytes` / `config_depth`, ModelFileError when it is not
    UTF-8 JSON; never RecursionError.
    """
    check("config_bytes", len(data), source)
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        value = json.loads(text)
    except RecursionError:
        # Python's parser stops near 1,000 levels, before any configured limit applies.
        raise FileLimitError(f"{source}: the JSON nests deeper than Python's parser can "
                             "follow (~1,000 levels); a real architecture nests less than "
                             f"{LIMITS['config_depth'].default}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{source} is not valid JSON: {error}") from None
    check_json_depth(value, source)
    return value
