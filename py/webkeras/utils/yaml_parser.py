"""Reads the YAML that `webkeras.utils.yaml_lite.load` accepts, as PyYAML's SafeLoader
reads it: YAML 1.1 plain-scalar types, line folding, the escapes of double quotes."""

import math
import re

# Plain scalars that YAML 1.1 (PyYAML's resolver) reads as something other than a string.
NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
                  r"|on|On|ON|off|Off|OFF)$")
INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                 r"|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")
FLOAT = re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
                   r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                   r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
# Dates and the merge / value keys: PyYAML builds other objects from them; here they fail.
UNSUPPORTED = re.compile(r"^(?:<<|=|[0-9]{4}-[0-9]{2}-[0-9]{2}"
                         r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}"
                         r":[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
                         r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$")
IMPLICIT_TYPES = (NULL, BOOL, INT, FLOAT, UNSUPPORTED)

# Double-quoted escapes, besides `\xXX`, `\uXXXX` and `\UXXXXXXXX`.
ESCAPES = {"0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b",
           "f": "\x0c", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
           "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPE_DIGITS = {"x": 2, "u": 4, "U": 8}
# Characters YAML text may not hold as they are (PyYAML's reader rejects them), and the
# line separators YAML 1.1 reads as line breaks, which this reader does not support.
_NOT_ALLOWED = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd"
                          "\U00010000-\U0010ffff]")
# Characters that cannot start a plain scalar.
INDICATORS = "#,[]{}&*!|>'\"%@`"
TUPLE_TAG = "!!python/tuple"


def parse(text):
    """The data in the YAML document `text` (a str)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parser = Parser(text)
    bad = _NOT_ALLOWED.search(text)
    if bad:
        parser.pos = bad.start()
        code = ord(bad.group())
        escape = f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}"
        parser.error(f"the character U+{code:04X} cannot appear as it is; write it as the "
                     f"escape {escape} inside double quotes")
    try:
        return parser.document()
    except RecursionError:
        raise ValueError("Cannot read the YAML: it is nested too deeply.") from None


def plain_value(text, parser):
    """The value of a plain (unquoted) scalar, typed as PyYAML's SafeLoader types it."""
    if NULL.match(text):
        return None
    if BOOL.match(text):
        return text.lower() in ("yes", "true", "on")
    try:
        if INT.match(text):
            return _int_value(text.replace("_", ""))
        if FLOAT.match(text):
            return _float_value(text.replace("_", "").lower())
    except ValueError:
        parser.error(f"the plain value {text!r} looks like a number but has no digits")
    if UNSUPPORTED.match(text):
        parser.error(f"the plain value {text!r} is a date or a merge key, which are not "
                     "supported; quote it to read it as a string")
    return text


def _int_value(text):
    sign = -1 if text[0] == "-" else 1
    text = text.lstrip("+-")
    if text.startswith(("0b", "0x")):
        return sign * int(text, 0)
    if text != "0" and text[0] == "0":
        return sign * int(text, 8)
    return sign * _sexagesimal(text, int)


def _float_value(text):
    sign = -1.0 if text[0] == "-" else 1.0
    text = text.lstrip("+-")
    if text == ".inf":
        return sign * math.inf
    if text == ".nan":
        return math.nan
    return sign * _sexagesimal(text, float)


def _sexagesimal(text, number):
    """`1:30` is 90 in YAML 1.1."""
    value = number(0)
    for part in text.split(":"):
        value = value * 60 + number(part)
    return value


# A plain scalar's text on one line. It stops before ": ", " #" and the line's end, and in
# flow collections also before ",?[]{}" and before ":" followed by one of ",[]{}".
_PLAIN_BLOCK = re.compile(r"(?:[^ \t\n:#]|:(?=[^ \t\n])|#|[ \t]+(?=[^ \t\n#]))*")
_PLAIN_FLOW = re.compile(r"(?:[^ \t\n:#,?\[\]{}]|:(?=[^ \t\n,\[\]{}])|#"
                         r"|[ \t]+(?=[^ \t\n#,?\[\]{}]))*")
_QUOTED_RUN = {"'": re.compile(r"[^' \t\n]+"), '"': re.compile(r'[^"\\ \t\n]+')}
_QUOTED_ON_ONE_LINE = re.compile(r"'(?:[^'\n]|'')*'|\"(?:[^\"\\\n]|\\.)*\"")
_KEY_END = re.compile(r"[ \t]*:(?![^ \t\n])")
_LINE_REST = re.compile(r"[ \t]*(?:#[^\n]*)?(?:\n|\Z)")
_DOCUMENT_MARKER = re.compile(r"(?:---|\.\.\.)(?![^ \t\n])")
_TAG = re.compile(r"![^ \t\n,\[\]{}]*")
_SPACES = re.compile(r"[ \t]*")
_INDENT = re.compile(r" *")
_SPACES_TO_LINE_END = re.compile(r"[ \t]*\n")
_BLANK_OR_END = ("", " ", "\t", "\n")


class Parser:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, message):
        line = self.text.count("\n", 0, self.pos) + 1
        start = self.text.rfind("\n", 0, self.pos) + 1
        end = self.text.find("\n", self.pos)
        line_text = self.text[start:end if end >= 0 else len(self.text)]
        raise ValueError(f"Cannot read the YAML at line {line}, column {self.pos - start + 1}: "
                         f"{message}. The line: {line_text.strip()[:100]!r}")

    def peek(self, offset=0):
        return self.text[self.pos + offset:self.pos + offset + 1]

    def column(self):
        return self.pos - (self.text.rfind("\n", 0, self.pos) + 1)

    def indicator(self, char, offset=0):
        """Whether `char` followed by a space or the line's end is at `pos + offset`."""
        return self.peek(offset) == char and self.peek(offset + 1) in _BLANK_OR_END

    def found(self):
        rest = self.text[self.pos:self.pos + 30].split("\n")[0]
        return repr(rest) if rest else "the end of the line" if self.peek() else \
            "the end of the text"

    # -- lines -----------------------------------------------------------------------------------
    def end_line(self):
        """Moves past trailing spaces, a comment and the line break."""
        rest = _LINE_REST.match(self.text, self.pos)
        if not rest:
            self.skip_spaces()
            self.error(f"expected the end of the line, found {self.found()}")
        self.pos = rest.end()

    def skip_spaces(self):
        self.pos = _SPACES.match(self.text, self.pos).end()

    def next_indent(self):
        """The indentation of the next line with content (skipping blank and comment lines),
        with `pos` at that line's start; -1 at the end of the text or at `---` / `...`."""
        while self.pos < len(self.text):
            blank = _LINE_REST.match(self.text, self.pos)
            if not blank:
                break
            self.pos = blank.end()
        indent = _INDENT.match(self.text, self.pos).end() - self.pos
        if self.pos + indent >= len(self.text) or \
                (indent == 0 and _DOCUMENT_MARKER.match(self.text, self.pos)):
            return -1
        if self.text[self.pos + indent] == "\t":
            self.pos += indent
            self.error("a tab character indents this line; YAML indents with spaces only")
        return indent

    # -- documents and block collections ---------------------------------------------------------
    def document(self):
        if self.next_indent() == 0 and self.peek() == "%":
            self.error("directives ('%YAML', '%TAG') are not supported")
        if _DOCUMENT_MARKER.match(self.text, self.pos) and self.peek() == "-":
            self.pos += 3
            value = self.value_after_indicator(-1, block_ok=False)
        else:
            value = self.block_node(-1)
        if self.next_indent() == -1 and self.text.startswith("...", self.pos):
            self.pos += 3
            self.end_line()
        if self.next_indent() != -1 or self.pos < len(self.text):
            if self.text.startswith("---", self.pos):
                self.error("a second document starts here; only one document is supported")
            self.skip_spaces()
            self.error(f"expected the end of the document, found {self.found()}")
        return value

    def block_node(self, parent_indent, indentless_ok=False):
        """The node on the next lines, indented deeper than `parent_indent` (or a sequence at
        its level under a mapping key); None when there is none."""
        indent = self.next_indent()
        start = self.pos + indent
        if indent > parent_indent or (indentless_ok and indent == parent_indent and
                                      self.indicator("-", indent)):
            self.pos = start
            return self.node_here(parent_indent, block_ok=True)
        return None

    def value_after_indicator(self, parent_indent, block_ok, indentless_ok=False):
        """The node after a `key:`, `-`, `?` or `:` that ends at `pos`."""
        self.skip_spaces()
        tagged = self.tag()
        if _LINE_REST.match(self.text, self.pos):
            self.end_line()
            value = self.block_node(parent_indent, indentless_ok)
        else:
            value = self.node_here(parent_indent, block_ok)
        if tagged and not isinstance(value, list):
            self.error(f"'{TUPLE_TAG}' must tag a sequence")
        return value

    def tag(self):
        """Reads a `!!python/tuple` tag (True) or nothing (False); other node properties fail."""
        char = self.peek()
        if char in ("&", "*"):
            kind = "anchors ('&name')" if char == "&" else "aliases ('*name')"
            self.error(f"{kind} are not supported; write the value out in full")
        if char != "!":
            return False
        tag = _TAG.match(self.text, self.pos).group()
        if tag != TUPLE_TAG:
            self.error(f"the tag {tag!r} is not supported: only plain data (mappings, sequences, "
                       f"strings, numbers, booleans, null) and '{TUPLE_TAG}' can be read")
        self.pos += len(tag)
        self.skip_spaces()
        return True

    def node_here(self, parent_indent, block_ok):
        """The node starting at `pos` on the current line, up to the end of its last line."""
        column = self.column()
        if self.peek() in ("|", ">"):
            self.error("block scalars ('|', '>') are not supported; write the text as a "
                       "quoted string")
        if block_ok and self.indicator("-"):
            return self.block_sequence(column)
        if block_ok and (self.indicator("?") or self.key_length()):
            return self.block_mapping(column)
        value = self.flow_node(parent_indent, flow=False)
        self.end_line()
        return value

    def block_sequence(self, column):
        items = []
        while True:
            self.pos += 1
            items.append(self.value_after_indicator(column, block_ok=True))
            indent = self.next_indent()
            if indent > column:
                self.pos += indent
                self.error(f"expected a '- ' item at column {column + 1}, found more indentation")
            if indent < column or not self.indicator("-", indent):
                return items
            self.pos += indent

    def block_mapping(self, column):
        mapping = {}
        while True:
            if self.indicator("?"):
                self.pos += 1
                key = self.value_after_indicator(column, block_ok=True)
                value = None
                if self.next_indent() == column and self.indicator(":", column):
                    self.pos += column + 1
                    value = self.value_after_indicator(column, True, indentless_ok=True)
            elif self.key_length():
                key = self.flow_node(column, flow=False, multiline=False)
                self.pos = _KEY_END.match(self.text, self.pos).end()
                value = self.value_after_indicator(column, block_ok=False, indentless_ok=True)
            else:
                self.error(f"expected a mapping key ('name: value'), found {self.found()}")
            if isinstance(key, (list, dict)):
                self.error("only strings, numbers, booleans and null can be mapping keys")
            mapping[key] = value
            indent = self.next_indent()
            if indent < column:
                return mapping
            self.pos += indent
            if indent > column:
                self.error(f"expected a mapping key at column {column + 1}, "
                           "found more indentation")

    def key_length(self):
        """The length of the one-line key and its ':' starting at `pos`; 0 if none starts."""
        if self.peek() in ("'", '"'):
            scalar = _QUOTED_ON_ONE_LINE.match(self.text, self.pos)
            end = scalar.end() if scalar else None
        elif self.plain_starts(flow=False):
            end = self.pos + len(_PLAIN_BLOCK.match(self.text, self.pos).group().rstrip(" \t"))
        else:
            end = None
        colon = end is not None and _KEY_END.match(self.text, end)
        return colon.end() - self.pos if colon else 0

    # -- flow nodes and scalars ------------------------------------------------------------------
    def flow_node(self, parent_indent, flow, multiline=True):
        """A flow collection or scalar starting at `pos`."""
        tagged = self.tag()
        char = self.peek()
        if char in ("[", "{"):
            value = self.flow_collection()
        elif char == "'":
            value = self.quoted("'")
        elif char == '"':
            value = self.quoted('"')
        elif self.plain_starts(flow):
            value = plain_value(self.plain(parent_indent, flow, multiline), self)
        else:
            self.error(f"expected a value, found {self.found()}")
        if tagged and not isinstance(value, list):
            self.error(f"'{TUPLE_TAG}' must tag a sequence")
        return value

    def skip_flow_space(self):
        """Moves past spaces, line breaks and comments inside a flow collection."""
        while True:
            self.skip_spaces()
            if self.peek() not in ("#", "\n"):
                return
            self.end_line()

    def flow_collection(self):
        opening = self.pos
        closing = "]" if self.peek() == "[" else "}"
        result = [] if closing == "]" else {}
        self.pos += 1
        while True:
            self.skip_flow_space()
            if self.peek() == closing:
                self.pos += 1
                return result
            if not self.peek():
                break
            if isinstance(result, dict) and self.indicator("?"):
                self.pos += 1  # an explicit key: `{? key : value}`
                self.skip_flow_space()
            item = self.flow_node(None, flow=True)
            self.skip_flow_space()
            if isinstance(result, dict):
                if isinstance(item, (list, dict)):
                    self.error("only strings, numbers, booleans and null can be mapping keys")
                value = None
                if self.peek() == ":":
                    self.pos += 1
                    self.skip_flow_space()
                    if self.peek() not in (",", "}"):
                        value = self.flow_node(None, flow=True)
                        self.skip_flow_space()
                result[item] = value
            else:
                result.append(item)
            if self.peek() == ",":
                self.pos += 1
            elif not self.peek():
                break
            elif self.peek() != closing:
                self.error(f"expected ',' or '{closing}', found {self.found()}")
        self.pos = opening
        self.error(f"the flow collection opened here has no closing '{closing}'")

    def plain_starts(self, flow):
        char = self.peek()
        if not char or char in " \t\n" + INDICATORS:
            return False
        if char in "-?:":
            # These start a plain scalar only when glued to what follows ('-1', ':x'); in
            # flow collections only '-' does.
            return self.peek(1) not in _BLANK_OR_END and (char == "-" or not flow)
        return True

    def plain(self, parent_indent, flow, multiline=True):
        """A plain scalar's text; it continues on deeper-indented lines (any line in a flow
        collection), which fold into one line as in YAML."""
        pattern = _PLAIN_FLOW if flow else _PLAIN_BLOCK
        text = ""
        while True:
            run = pattern.match(self.text, self.pos).group().rstrip(" \t")
            text += run
            self.pos += len(run)
            end = self.pos
            if not multiline or not _SPACES_TO_LINE_END.match(self.text, self.pos):
                return text
            self.pos = self.text.index("\n", self.pos)
            breaks = self.line_breaks()
            column = self.column()
            if (self.peek() in ("", "#") or not pattern.match(self.text, self.pos).group()
                    or (column == 0 and _DOCUMENT_MARKER.match(self.text, self.pos))
                    or (not flow and column <= parent_indent)):
                self.pos = end
                return text
            text += breaks

    def line_breaks(self):
        """Folds the line break at `pos` and the blank lines after it: a space, or one newline
        per blank line. Leaves `pos` at the next line's first non-space character."""
        blank_lines = -1
        while self.peek() == "\n":
            self.pos += 1
            blank_lines += 1
            self.skip_spaces()
        return "\n" * blank_lines if blank_lines else " "

    def quoted(self, quote):
        opening = self.pos
        self.pos += 1
        chunks = []
        while True:
            char = self.peek()
            if not char:
                self.pos = opening
                self.error(f"the string opened here has no closing {quote}")
            if char == quote and (quote == '"' or self.peek(1) != "'"):
                self.pos += 1
                return "".join(chunks)
            if char in (" ", "\t", "\n"):
                start = self.pos
                self.skip_spaces()
                # Spaces before a line break are dropped; the break folds.
                chunks.append(self.line_breaks() if self.peek() == "\n" else
                              self.text[start:self.pos])
            elif char == "'" and quote == "'":
                chunks.append("'")
                self.pos += 2
            elif char == "\\" and quote == '"':
                chunks.append(self.escape())
            else:
                run = _QUOTED_RUN[quote].match(self.text, self.pos).end()
                chunks.append(self.text[self.pos:run])
                self.pos = run

    def escape(self):
        code = self.peek(1)
        self.pos += 2
        if code in ESCAPES:
            return ESCAPES[code]
        if code == "\n":
            # An escaped line break joins the lines; blank lines after it still count.
            self.pos -= 1
            return self.line_breaks().strip(" ")
        if code in _HEX_ESCAPE_DIGITS:
            digits = self.text[self.pos:self.pos + _HEX_ESCAPE_DIGITS[code]]
            if re.fullmatch(r"[0-9a-fA-F]+", digits) and len(digits) == \
                    _HEX_ESCAPE_DIGITS[code] and int(digits, 16) <= 0x10FFFF:
                self.pos += len(digits)
                return chr(int(digits, 16))
        self.pos -= 2
        self.error(f"unknown escape sequence {self.text[self.pos:self.pos + 4]!r} in a "
                   "double-quoted string")
