"""The Keras guides' own code runs unchanged on webkeras (issue #14).

Each guide in tests/guides/programs/ runs in its own subprocess through run_guide.py, with
`keras` resolving to webkeras and only the edits in edits.py applied. A guide that still
fails is listed in KNOWN_GAPS with the reason; the mark is strict, so a fix shows up as an
XPASS to remove from the list.

The programs are copies of keras-io code and are kept out of this repository (see
programs/.gitignore and README.md, which says where each comes from and how to put it
back); a guide whose program file is absent is skipped. The library fixes these guides led
to have their own unit tests under tests/, which run everywhere.
"""

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
TIMEOUT_S = 300

GUIDES = [
    "sequential_model",
    "functional_api",
    "making_new_layers_and_models_via_subclassing",
    "writing_your_own_callbacks",
    "serialization_and_saving",
    "understanding_masking_and_padding",
    "training_with_built_in_methods",
    "customizing_saving_and_serialization",
    "working_with_rnns",
    "intro_to_keras_for_engineers",
    "transfer_learning",
    "mnist_convnet",
    "antirectifier",
    "text_classification_with_transformer",
    "bidirectional_lstm_imdb",
    "addition_rnn",
    "autoencoder",
    "image_classification_with_vision_transformer",
]

# Guides that take more than ~20 s on two shared cores: `make test-slow` runs them.
SLOW = {"working_with_rnns", "image_classification_with_vision_transformer"}

# guide name -> why it still fails (strict xfail)
KNOWN_GAPS = {
    # Not a gap: real Keras 3.15 fails the same way (its Dense saves kernel and bias only, and
    # the guide's load_own_variables assigns entry '0', the kernel, to its (units,) variable).
    "customizing_saving_and_serialization": "fails as on Keras 3.15: 'Cannot assign a value of "
                                            "shape (10, 1) to variable my_variable of shape "
                                            "(1,)'",
}


def _param(name):
    marks = [pytest.mark.slow] if name in SLOW else []
    if name in KNOWN_GAPS:
        marks.append(pytest.mark.xfail(reason=KNOWN_GAPS[name], strict=True))
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_param(n) for n in GUIDES])
def test_guide_runs(name, tmp_path):
    if not (PROGRAMS / f"{name}.py").exists():
        pytest.skip(f"tests/guides/programs/{name}.py is not here (see tests/guides/README.md)")
    result = subprocess.run(
        [sys.executable, str(HERE / "run_guide.py"), name, str(tmp_path)],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-4000:]
