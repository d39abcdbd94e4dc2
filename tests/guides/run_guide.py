"""Runs one Keras guide program with `keras` resolving to webkeras.

Usage: python tests/guides/run_guide.py NAME WORKDIR

The program text in tests/guides/programs/NAME.py is the guide's file as keras-io publishes
it (its prose, the top-level triple-quoted Markdown blocks, is dropped here if still in it,
so the file can be saved from keras-io as it is). The only changes are the ones listed in
tests/guides/edits.py (smaller data, fewer epochs, local stand-ins for downloads, sections
cut that need another framework); each is applied here, at run time, and must match the
text exactly once, so a guide that changes upstream shows up as a failure, not as a
silently skipped edit.
"""

import ast
import os
import re
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
GUIDE_SEED = 1337


def alias_keras():
    """`import keras`, `import keras_core` and `from keras.x import y` give webkeras.

    With GUIDES_REAL_KERAS=1 (run from the Keras 3 reference venv) `keras_core` gives the
    real Keras instead, to see what the reference does with the same program.
    """
    if os.environ.get("GUIDES_REAL_KERAS") == "1":
        import keras

        sys.modules["keras_core"] = keras
        return
    import webkeras

    for name in ("keras", "keras_core"):
        sys.modules[name] = webkeras
        for mod_name, module in list(sys.modules.items()):
            if mod_name.startswith("webkeras."):
                sys.modules[name + mod_name[len("webkeras"):]] = module


def _find_all(text, part):
    """The start of every (possibly overlapping) occurrence of `part` in `text`."""
    start = text.find(part)
    while start != -1:
        yield start
        start = text.find(part, start + 1)


def code_cells(text):
    """`text` without its prose: keras-io writes each Markdown block as a top-level string
    statement, which is dropped with its lines."""
    lines = text.splitlines(keepends=True)
    for node in reversed(ast.parse(text).body):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            del lines[node.lineno - 1:node.end_lineno]
    return "".join(lines)


def edited_source(name):
    sys.path.insert(0, str(HERE))
    from edits import EDITS

    text = code_cells((PROGRAMS / f"{name}.py").read_text())
    for old, new in EDITS.get(name, ()):
        # A compiled pattern cuts a whole section (from one line to another); a string is
        # replaced as it is.
        if isinstance(old, re.Pattern):
            spans = [m.span() for m in old.finditer(text)]
            shown = old.pattern
        else:
            spans = [(i, i + len(old)) for i in _find_all(text, old)]
            shown = old
        if len(spans) != 1:
            raise SystemExit(f"edit for {name} matches {len(spans)} times, expected 1: "
                             f"{shown!r}")
        start, end = spans[0]
        text = text[:start] + new + text[end:]
    return text


def main():
    name, workdir = sys.argv[1], sys.argv[2]
    source = edited_source(name)
    alias_keras()
    # The programs draw their data with NumPy's global generator and Python's `random`:
    # seeded (both, and Keras's own) so that a run is the same every time.
    sys.modules["keras_core"].utils.set_random_seed(GUIDE_SEED)
    os.chdir(workdir)
    path = Path(workdir) / f"{name}.py"
    path.write_text(source)
    sys.argv = [str(path)]
    runpy.run_path(str(path), run_name="__main__")


if __name__ == "__main__":
    main()
