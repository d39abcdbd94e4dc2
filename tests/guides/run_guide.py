"""Runs one Keras guide program with `keras` resolving to webkeras.

Usage: python tests/guides/run_guide.py NAME WORKDIR

The program text in tests/guides/programs/NAME.py is the guide's code as keras-io publishes
it. The only changes are the ones listed in tests/guides/edits.py (smaller data, fewer
epochs, local stand-ins for downloads); each is applied here, at run time, and must match
the text exactly once, so a guide that changes upstream shows up as a failure, not as a
silently skipped edit.
"""

import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"


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


def edited_source(name):
    sys.path.insert(0, str(HERE))
    from edits import EDITS

    text = (PROGRAMS / f"{name}.py").read_text()
    for old, new in EDITS.get(name, ()):
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"edit for {name} matches {count} times, expected 1: {old!r}")
        text = text.replace(old, new)
    return text


def main():
    name, workdir = sys.argv[1], sys.argv[2]
    source = edited_source(name)
    alias_keras()
    os.chdir(workdir)
    path = Path(workdir) / f"{name}.py"
    path.write_text(source)
    sys.argv = [str(path)]
    runpy.run_path(str(path), run_name="__main__")


if __name__ == "__main__":
    main()
