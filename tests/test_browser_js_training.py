"""The JS API's training half (/webkeras.js) in headless Chromium, on the real server:
runPython, compile / fit / evaluate / save / getWeights / setWeights / summary, and the
"teach it your handwriting" page.

The page under test is tests/pages/js_api.html (only the public JS API); the MNIST CNN is the
one `make setup` trains (build/models/), the data are the repo's MNIST files. What the tab
trains or saves is checked against native webkeras on the same weights.
"""

import re
from pathlib import Path

import pytest
from conftest import create_app, default_build_dir, local_chromium
from test_browser_predict import third_party_page
from webkeras.server.browser import CHROMIUM, serve_app

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILT_MODELS = default_build_dir() / "models"
CNN_URL = "/models/mnist_cnn/model.json"

pytestmark = [
    pytest.mark.skipif(not (BUILT_MODELS / "mnist_cnn" / "model.json").is_file(),
                       reason=f"{BUILT_MODELS}/mnist_cnn is missing: run `make setup`"),
    pytest.mark.skipif(not (default_build_dir() / "pyodide" / "pyodide.mjs").is_file(),
                       reason="the Pyodide runtime is missing: run `make setup`"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]


@pytest.fixture(scope="module")
def server():
    app = create_app()
    app.add_url_rule("/test-pages/<path:filename>", "test_pages",
                     lambda filename: third_party_page(REPO_ROOT / "tests" / "pages", filename))
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def context(playwright, tmp_path_factory, server):
    with local_chromium(playwright, server, tmp_path_factory.mktemp("profile"),
                        viewport={"width": 1000, "height": 900}) as context:
        yield context


@pytest.fixture(scope="module")
def api_page(context, server):
    """The JS API test page with the MNIST CNN loaded as window.cnn (one boot per module)."""
    page = context.new_page()
    page.goto(server + "/test-pages/js_api.html")
    page.wait_for_function("window.pageReady === true")
    page.evaluate("async (url) => { window.cnn = await window.load(url); }", CNN_URL)
    return page


def reject_message(page, script, arg=None):
    """The message `script` (an async function body's expression) rejects with, or None."""
    return page.evaluate(f"async (arg) => ({script}).then(() => null, (e) => e.message)", arg)


# -- runPython ------------------------------------------------------------------------------
def test_run_python_sees_the_loaded_model_and_returns_values(api_page):
    page = api_page
    assert page.evaluate("window.cnn.pythonName") == f"models[{page.evaluate('window.cnn.id')}]"
    printed = page.evaluate(
        """async () => { const out = [];
             const value = await window.api.runPython(
               `print("params", ${window.cnn.pythonName}.count_params())\\n` +
               `${window.cnn.pythonName}.name`,
               {onOutput: (text, stream) => out.push([stream, text])});
             return {value, out}; }""")
    assert printed["value"] == "mnist_cnn"
    text = "".join(t for stream, t in printed["out"] if stream == "stdout")
    assert re.fullmatch(r"params \d+\n", text), printed["out"]
    # Globals persist; NumPy values come back as JSON; no last expression gives null; an
    # object that is not JSON comes back as its repr.
    run = "(code) => window.api.runPython(code)"
    assert page.evaluate(run, "x = np.arange(6, dtype='float32').reshape(2, 3) / 2") is None
    assert page.evaluate(run, "x") == [[0, 0.5, 1], [1.5, 2, 2.5]]
    assert page.evaluate(run, "{'n': x.sum(), 'ok': True}") == {"n": 7.5, "ok": True}
    assert page.evaluate(run, "float('nan')") == "nan"
    assert page.evaluate(run, "keras.layers.Dense").startswith("<class ")
    assert page.evaluate(run, "import asyncio\nawait asyncio.sleep(0)\n2 + 3") == 5


def test_run_python_rejects_with_the_traceback(api_page):
    error = api_page.evaluate(
        """() => window.api.runPython("def f():\\n    return 1 / 0\\nf()")
             .then(() => null, (e) => ({message: e.message, name: e.name, type: e.pythonType}))""")
    assert error["name"] == "PythonError" and error["type"] == "ZeroDivisionError"
    assert error["message"].startswith("Traceback (most recent call last):\n"), error
    assert 'File "<runPython>", line 3, in <module>' in error["message"]
    assert "return 1 / 0" in error["message"]
    assert error["message"].endswith("ZeroDivisionError: division by zero")
    assert "_pyodide" not in error["message"]
    syntax = reject_message(api_page, "window.api.runPython('1 +')")
    assert "SyntaxError" in syntax and "<runPython>" in syntax, syntax
    # The interpreter keeps working after an error.
    assert api_page.evaluate("() => window.api.runPython('40 + 2')") == 42
