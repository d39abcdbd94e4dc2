"""The pytest plugin (webkeras.server.testing) and `webkeras check`, run as a user runs them.

The README's example test (examples/pytest_plugin/test_my_model.py, the same text) is copied
into a folder outside the checkout with no conftest, its MODEL line pointed at a `.keras`, an
`.h5` or a TF.js copy of the MNIST CNN `make setup` trains, and `python -m pytest` runs there in
a subprocess with the installed webkeras (its pytest11 entry point brings the fixtures). A
model whose native weights changed after its tab copy was saved must fail naming the worst
element; `webkeras check` runs as a command.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import default_build_dir
from webkeras.saving import load_model
from webkeras.server.browser import CHROMIUM
from webkeras.server.testing.compare import compare

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "pytest_plugin" / "test_my_model.py"
EXAMPLE_MODEL_LINE = 'MODEL = "my_model.keras"'
BUILT_MODELS = default_build_dir() / "models"
WEBKERAS = Path(sys.executable).with_name("webkeras")
# A browser session boots Pyodide once per backend; the machine may be loaded.
SUBPROCESS_TIMEOUT_S = 900
# Added to one logit of the CNN's last Dense layer: far over any tolerance.
BIAS_SHIFT = 2.0
SHIFTED_CLASS = 3
# Chromium flags that leave WebGPU without an adapter (no GPU, no SwiftShader).
NO_ADAPTER = {"WEBKERAS_CHROMIUM_ARGS": "--disable-gpu --disable-software-rasterizer"}

needs_models = pytest.mark.skipif(
    not (BUILT_MODELS / "mnist_cnn.keras").is_file(),
    reason=f"{BUILT_MODELS}/mnist_cnn.keras is missing: run `make setup`")
BROWSER_MARKS = [
    needs_models,
    pytest.mark.skipif(not (default_build_dir() / "pyodide" / "pyodide.mjs").is_file(),
                       reason="the Pyodide runtime is missing: run `make setup`"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]


def needs_browser(test):
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test

PERTURBED_TEST = '''
import numpy as np
import webkeras as keras

MODEL = {model!r}
BROKEN = {broken!r}


def test_native_weights_changed_after_the_tab_copy(tmp_path, assert_tab_matches_native):
    model = keras.saving.load_model(MODEL)
    model.save(tmp_path / "tab_copy.keras")
    bias = model.layers[-1].bias
    bias.assign(np.asarray(bias.numpy()) + np.eye(10, dtype="float32")[{shifted}] * {shift})
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    assert_tab_matches_native(model, x, atol=1e-4, tab_model=tmp_path / "tab_copy.keras")


def test_tab_copy_that_cannot_load(assert_tab_matches_native):
    x = np.zeros((1, 28, 28, 1), np.float32)
    assert_tab_matches_native(MODEL, x, tab_model=BROKEN)
'''


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("user_models")
    shutil.copy(BUILT_MODELS / "mnist_cnn.keras", root / "my_model.keras")
    load_model(root / "my_model.keras").save(root / "my_model.h5")
    shutil.copytree(BUILT_MODELS / "mnist_cnn", root / "my_model_tfjs")
    broken = shutil.copytree(BUILT_MODELS / "mnist_cnn", root / "broken_tfjs")
    (broken / "group1-shard1of1.bin").unlink()
    return root


def example_for(model_path):
    """The example as a user edits it: only its MODEL line changes."""
    text = EXAMPLE.read_text()
    assert text.count(EXAMPLE_MODEL_LINE) == 1
    return text.replace(EXAMPLE_MODEL_LINE, f"MODEL = {str(model_path)!r}")


def run_pytest(folder, *args, env=None):
    assert not list(Path(folder).glob("conftest.py"))
    return subprocess.run([sys.executable, "-m", "pytest", "-rA", *args], cwd=folder,
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S,
                          env={**os.environ, **(env or {})})


def outcomes(result):
    """{test id: PASSED/FAILED/ERROR} from pytest's -rA summary (skips are not listed by id)."""
    found = re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", result.stdout, re.M)
    return {test: outcome for outcome, test in found}


def shifted_copy(path):
    model = load_model(path)
    bias = model.layers[-1].bias
    bias.assign(np.asarray(bias.numpy()) + np.eye(10, dtype="float32")[SHIFTED_CLASS] * BIAS_SHIFT)
    return model


def test_readme_shows_the_example_as_it_is():
    assert EXAMPLE.read_text().strip() in (REPO_ROOT / "README.md").read_text()


def test_compare_names_the_worst_element_and_treats_nan_as_equal_to_nan():
    native = np.array([[0.0, 1.0, np.nan], [2.0, 3.0, 4.0]])
    tab = np.array([[0.0, 1.00005, np.nan], [2.0, 2.5, 4.0]])
    (diff,) = compare(native, tab, ["out"], atol=1e-4)
    assert (diff.worst_index, diff.native_value, diff.tab_value) == ((1, 1), 3.0, 2.5)
    assert diff.max_diff == pytest.approx(0.5) and diff.over == 1 and not diff.ok
    (nan_diff,) = compare(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), ["out"])
    assert nan_diff.max_diff == np.inf and nan_diff.worst_index == (0,)


@needs_browser
def test_example_passes_and_a_perturbed_copy_fails_with_the_worst_element(tmp_path, models):
    (tmp_path / "test_keras_model.py").write_text(example_for(models / "my_model.keras"))
    (tmp_path / "test_perturbed.py").write_text(PERTURBED_TEST.format(
        model=str(models / "my_model.keras"), broken=str(models / "broken_tfjs"),
        shifted=SHIFTED_CLASS, shift=BIAS_SHIFT))
    result = run_pytest(tmp_path, "--webkeras-backend", "numpy")
    report = result.stdout + result.stderr
    assert outcomes(result) == {
        "test_keras_model.py::test_tab_matches_native[numpy]": "PASSED",
        "test_keras_model.py::test_predict_and_python_in_the_tab[numpy]": "PASSED",
        "test_perturbed.py::test_native_weights_changed_after_the_tab_copy[numpy]": "FAILED",
        "test_perturbed.py::test_tab_copy_that_cannot_load[numpy]": "FAILED",
    }, report

    # The worst element the message names is the worst one natively computed here.
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    original = load_model(models / "my_model.keras").predict(x, verbose=0)
    perturbed = shifted_copy(models / "my_model.keras").predict(x, verbose=0)
    match = re.search(r"The tab \(numpy\) does not match native webkeras for model "
                      r"'(\w+)' \(1 of 1 outputs\):\nE\s+output 'dense' \(8, 10\): worst element "
                      r"\[(\d+), (\d+)\]: native (\S+), tab (\S+), \|diff\| (\S+) > atol "
                      r"0.0001 \((\d+) of 80 elements over\)", report)
    assert match, report
    index = (int(match[2]), int(match[3]))
    error = np.abs(perturbed - original)
    assert error[index] == pytest.approx(error.max(), abs=1e-4)
    assert float(match[4]) == pytest.approx(perturbed[index], abs=1e-6)
    assert float(match[5]) == pytest.approx(original[index], abs=1e-4)
    assert float(match[6]) == pytest.approx(error.max(), abs=1e-4)
    assert int(match[7]) == np.count_nonzero(error > 1e-4)
    # A copy the tab cannot load fails with the tab's own words.
    assert re.search(r"The tab \(numpy\) could not load \S+broken_tfjs: .*"
                     r"group1-shard1of1.bin -> HTTP 404", report), report


@pytest.mark.slow
@needs_browser
def test_example_for_keras_h5_and_tfjs_models_on_both_backends(tmp_path, models):
    for name in ("my_model.keras", "my_model.h5", "my_model_tfjs"):
        test_file = tmp_path / f"test_{name.replace('.', '_')}.py"
        test_file.write_text(example_for(models / name))
    result = run_pytest(tmp_path)
    expected = {f"test_{name}.py::{test}[{backend}]": "PASSED"
                for name in ("my_model_keras", "my_model_h5", "my_model_tfjs")
                for test in ("test_tab_matches_native", "test_predict_and_python_in_the_tab")
                for backend in ("webgpu", "numpy")}
    assert outcomes(result) == expected, result.stdout + result.stderr


@needs_models
def test_missing_chromium_is_named_with_how_to_set_it(tmp_path, models):
    (tmp_path / "test_keras_model.py").write_text(example_for(models / "my_model.keras"))
    missing = tmp_path / "no-chromium"
    result = run_pytest(tmp_path, "--webkeras-backend", "numpy",
                        env={"WEBKERAS_CHROMIUM": str(missing)})
    assert set(outcomes(result).values()) == {"ERROR"}, result.stdout
    assert (f"No Chromium at {missing} ($WEBKERAS_CHROMIUM). Install it (`apt-get install "
            "chromium`) or set WEBKERAS_CHROMIUM") in result.stdout


@pytest.mark.slow
@needs_browser
def test_without_a_webgpu_adapter_webgpu_is_skipped_unless_asked_for(tmp_path, models):
    (tmp_path / "test_keras_model.py").write_text(example_for(models / "my_model.keras"))
    quick = ("-k", "test_tab_matches_native")
    # Without pytest-playwright too: then the plugin starts Playwright itself.
    result = run_pytest(tmp_path, *quick, "-p", "no:playwright", env=NO_ADAPTER)
    assert outcomes(result) == {"test_keras_model.py::test_tab_matches_native[numpy]": "PASSED"}
    assert re.search(r"^SKIPPED \[1\] test_keras_model.py:\d+: No WebGPU adapter in \S+: "
                     r"navigator.gpu.requestAdapter\(\) returned null", result.stdout, re.M), \
        result.stdout
    asked = run_pytest(tmp_path, *quick, "--webkeras-backend", "webgpu", env=NO_ADAPTER)
    assert outcomes(asked) == {"test_keras_model.py::test_tab_matches_native[webgpu]": "ERROR"}
    assert "--webkeras-backend webgpu was asked for: No WebGPU adapter in" in asked.stdout
    check = run_check(models / "my_model.keras", "--backend", "webgpu", env=NO_ADAPTER)
    assert check.returncode == 2, check.stdout + check.stderr
    assert check.stderr.startswith("webkeras check: No WebGPU adapter in ")


# -- webkeras check ---------------------------------------------------------------------------
def run_check(*args, env=None):
    return subprocess.run([str(WEBKERAS), "check", *map(str, args)], capture_output=True,
                          text=True, timeout=SUBPROCESS_TIMEOUT_S,
                          env={**os.environ, **(env or {})})


@needs_browser
def test_check_prints_the_table_and_timings(tmp_path, models):
    x = np.random.default_rng(1).random((3, 28, 28, 1), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    result = run_check(models / "my_model_tfjs", "--inputs", tmp_path / "x.npy",
                       "--backend", "numpy")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"webkeras check {models / 'my_model_tfjs'}: model 'mnist_cnn', "
                               "3 samples; tab on numpy")
    assert lines[1].split() == ["output", "shape", "max", "|diff|", "worst", "index",
                                "tolerance", "ok"]
    row = re.fullmatch(r"dense\s+\(3, 10\)\s+(\S+)\s+\[\d, \d\]\s+0.0001\s+yes", lines[2])
    assert row and float(row[1]) <= 1e-4, result.stdout
    assert re.fullmatch(r"timings: boot [\d.]+ s; load tab [\d.]+ s, native [\d.]+ s; "
                        r"predict tab [\d.]+ s, native [\d.]+ s", lines[3]), result.stdout


@needs_browser
def test_check_exits_1_when_the_tab_copy_differs(tmp_path, models):
    shifted = shifted_copy(models / "my_model.keras")
    shifted.save(tmp_path / "shifted.keras")
    result = run_check(models / "my_model.keras", "--tab-model", tmp_path / "shifted.keras",
                       "--backend", "numpy")
    assert result.returncode == 1, result.stdout + result.stderr
    # check's own inputs: seeded (0) uniform floats, batch 4.
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    error = np.abs(shifted.predict(x, verbose=0) - load_model(models / "my_model.keras")
                   .predict(x, verbose=0))
    worst = [int(i) for i in np.unravel_index(np.argmax(error), error.shape)]
    row = re.search(r"^dense\s+\(4, 10\)\s+(\S+)\s+(\[\d, \d\])\s+0.0001\s+NO$", result.stdout,
                    re.M)
    assert row and row[2] == str(worst), result.stdout
    assert float(row[1]) == pytest.approx(error.max(), rel=5e-3)  # printed with 3 digits
    assert f"over tolerance: output 'dense' (4, 10): worst element {worst}: " in result.stdout


@needs_models
def test_check_exits_2_on_a_missing_model_or_chromium(tmp_path, models):
    missing = tmp_path / "nowhere.keras"
    result = run_check(missing)
    assert result.returncode == 2
    assert result.stderr.startswith("webkeras check: ") and str(missing) in result.stderr
    result = run_check(models / "my_model.keras", env={"WEBKERAS_CHROMIUM": str(missing)})
    assert result.returncode == 2
    assert f"webkeras check: No Chromium at {missing} ($WEBKERAS_CHROMIUM)" in result.stderr
