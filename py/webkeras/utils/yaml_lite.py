"""A small YAML writer and reader for JSON-like data, so `model.to_yaml()` and
`keras.models.model_from_yaml` work where PyYAML is not installed (the browser tab).

`dump` writes what `yaml.safe_dump(data, width=float("inf"))` writes: block style, sorted
keys, PyYAML's quoting and number forms, long lines never folded. `load` reads YAML 1.1
as `yaml.safe_load` does: block mappings and sequences, flow `[...]` / `{...}`, plain,
single- and double-quoted scalars, comments, one document. Anything else (anchors, aliases,
tags other than `!!python/tuple`, block scalars, several documents) is a `ValueError` naming
the line. Nothing in the text is ever executed or imported.
"""

import math
import re

from webkeras.utils.yaml_parser import ESCAPES, IMPLICIT_TYPES, INDICATORS, parse

_ESCAPE_OF = {char: code for code, char in ESCAPES.items() if code not in "\t/ "}
# Characters that force double quotes. With `allow_unicode=True` printable non-ASCII text
# stays as it is; the line separators U+0085, U+2028 and U+2029 are always escaped.
_NOT_PRINTABLE_ASCII = re.compile("[^\n\x20-\x7e]")
_NOT_PRINTABLE_UNICODE = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe"
                                    "\uff00-\ufffd\U00010000-\U0010fffe]")
# Characters written as escapes inside double quotes (as PyYAML's emitter picks them).
_ESCAPED = re.compile('["\\\\]|[^\x20-\x7e]')
_ESCAPED_UNICODE = re.compile('["\\\\\x85\u2028\u2029\ufeff]|[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd]')


# -- writing -------------------------------------------------------------------------------------
def dump(data, sort_keys=True, allow_unicode=False):
    """YAML text of `data` (dicts, lists, tuples, str, int, float, bool, None), byte for byte
    as `yaml.safe_dump(data, sort_keys=..., allow_unicode=..., width=float("inf"))` writes it
    (with `allow_unicode`, U+0085, U+2028 and U+2029 stay escaped).

    Example:

    >>> dump({"units": 3, "name": "dense", "shape": [None, 4]})
    'name: dense\\nshape:\\n- null\\n- 4\\nunits: 3\\n'
    """
    writer = _Writer(sort_keys, allow_unicode)
    try:
        if isinstance(data, (dict, list, tuple)) and data:
            lines = [""]
            writer.collection(data, 0, lines)
            return "\n".join(lines) + "\n"
        text = writer.scalar(data, 2)
    except RecursionError:
        raise ValueError("Cannot write YAML: the data is nested too deeply or contains "
                         "itself.") from None
    # PyYAML ends a document holding only a plain scalar with `...`.
    return text + ("\n" if text[0] in "'\"[{" else "\n...\n")


class _Writer:
    def __init__(self, sort_keys, allow_unicode):
        self.sort_keys = sort_keys
        self.allow_unicode = allow_unicode

    def collection(self, value, indent, lines):
        """Writes a non-empty dict or list whose first line continues `lines[-1]`."""
        if isinstance(value, dict):
            return self.mapping(value, indent, lines)
        for i, item in enumerate(value):
            if i:
                lines.append(" " * indent)
            lines[-1] += "-"
            self.value(item, indent, lines, after_simple_key=False)

    def mapping(self, mapping, indent, lines):
        items = list(mapping.items())
        if self.sort_keys:
            try:
                items.sort(key=lambda item: item[0])
            except TypeError:
                pass  # Keys of mixed types keep their order, as in PyYAML.
        for i, (key, value) in enumerate(items):
            if i:
                lines.append(" " * indent)
            if isinstance(key, (dict, list, tuple)):
                raise TypeError("Cannot write YAML: mapping keys must be str, int, float, bool "
                                f"or None. Received the key {key!r:.200}")
            key_text = self.scalar(key, indent + 2)
            raw = key if isinstance(key, str) else key_text
            # PyYAML's rule: empty, multi-line and long keys take the explicit `? key` form.
            if raw and len(raw) < 128 and not re.search("[\n\x85\u2028\u2029]", raw):
                lines[-1] += key_text + ":"
                self.value(value, indent, lines, after_simple_key=True)
            else:
                lines[-1] += "? " + key_text
                lines.append(" " * indent + ":")
                self.value(value, indent, lines, after_simple_key=False)

    def value(self, value, indent, lines, after_simple_key):
        """Writes `value` after a `key:`, `-` or `:` that ends `lines[-1]`."""
        if not (isinstance(value, (dict, list, tuple)) and value):
            lines[-1] += " " + self.scalar(value, indent + 2)
        elif not after_simple_key:
            lines[-1] += " "
            self.collection(value, indent + 2, lines)
        elif isinstance(value, dict):
            lines.append(" " * (indent + 2))
            self.mapping(value, indent + 2, lines)
        else:
            # A sequence under a key starts at the key's own column.
            lines.append(" " * indent)
            self.collection(value, indent, lines)

    def scalar(self, value, indent):
        """The text of a scalar or empty collection; line breaks continue at `indent`."""
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return int.__repr__(value)
        if isinstance(value, float):
            return _float_text(value)
        if isinstance(value, (dict, list, tuple)) and not value:
            return "{}" if isinstance(value, dict) else "[]"
        if not isinstance(value, str):
            raise TypeError(f"Cannot write {type(value).__name__} values as YAML: expected "
                            "dicts, lists, tuples, str, int, float, bool and None. "
                            f"Received: {value!r:.200}")
        return self.string(value, indent)

    def string(self, text, indent):
        special = _NOT_PRINTABLE_UNICODE if self.allow_unicode else _NOT_PRINTABLE_ASCII
        # Spaces next to a line break survive only in double quotes, as escapes.
        if special.search(text) or " \n" in text or "\n " in text:
            escaped = _ESCAPED_UNICODE if self.allow_unicode else _ESCAPED
            return '"' + escaped.sub(lambda m: _escape(m.group()), text) + '"'
        if _plain_allowed(text):
            return text
        # In single quotes a line break is written as an empty line.
        quoted = text.replace("'", "''")
        return "'" + re.sub("\n+", lambda m: "\n" * (len(m.group()) + 1) + " " * indent,
                            quoted) + "'"


def _escape(char):
    if char in _ESCAPE_OF:
        return "\\" + _ESCAPE_OF[char]
    code = ord(char)
    return f"\\x{code:02X}" if code <= 0xFF else \
        f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _plain_allowed(text):
    """Whether printable `text` can be written unquoted and reads back as the same string."""
    if not text or text[0] == " " or text[-1] == " " or "\n" in text:
        return False
    if text.startswith(("---", "...")) or text[0] in INDICATORS:
        return False
    if text[0] in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if ": " in text or text.endswith(":") or " #" in text:
        return False
    return not any(pattern.match(text) for pattern in IMPLICIT_TYPES)


def _float_text(value):
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = float.__repr__(value).lower()
    # `1e+17` is not a YAML 1.1 float; `1.0e+17` is.
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


# -- reading -------------------------------------------------------------------------------------
def load(stream):
    """The data in a YAML document (str, bytes or a file opened for reading), read as
    `yaml.safe_load` reads it; `!!python/tuple` sequences (tf.keras 2 wrote them) become lists.

    Raises:
        ValueError: for text outside the supported subset, naming the line.
    """
    text = stream.read() if hasattr(stream, "read") else stream
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not isinstance(text, str):
        raise TypeError("Expected YAML as a str, bytes or a file opened for reading. "
                        f"Received: {type(text).__name__}")
    return parse(text)
