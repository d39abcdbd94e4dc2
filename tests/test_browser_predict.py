"""The /predict page and the JS API (/webkeras.js) in headless Chromium, on the real server.

The MNIST CNN is the one `make setup` trains (build/models/); the page's predictions are
compared with native webkeras predicting the same 28x28 input from the same model's `.keras`
file. The JS API is driven from a page that is not part of the app (tests/pages/js_api.html),
and the README's copy-paste example (examples/web/predict_digit.html) is run as it is.
"""

import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import create_app, default_build_dir, local_chromium
from webkeras.saving import load_model
from webkeras.saving.tfjs import save_tfjs
from webkeras.server.app import serve_file
from webkeras.server.browser import CHROMIUM, serve_app

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILT_MODELS = default_build_dir() / "models"
REFERENCE = REPO_ROOT / "tests" / "reference" / "saving"
EXAMPLE_PAGE = REPO_ROOT / "examples" / "web" / "predict_digit.html"
# The page runs on webgpu (SwiftShader) or numpy in wasm; native runs NumPy with BLAS: the
# float32 sums differ in order only.
TOLERANCE = 1e-4

pytestmark = [
    pytest.mark.skipif(not (BUILT_MODELS / "mnist_cnn" / "model.json").is_file(),
                       reason=f"{BUILT_MODELS}/mnist_cnn is missing: run `make setup`"),
    pytest.mark.skipif(not (default_build_dir() / "pyodide" / "pyodide.mjs").is_file(),
                       reason="the Pyodide runtime is missing: run `make setup`"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(BUILT_MODELS / "mnist_cnn", root / "mnist_cnn")
    shutil.copy(BUILT_MODELS / "mnist_cnn.keras", root / "mnist_cnn.keras")
    save_tfjs(load_model(REFERENCE / "functional.keras"), root / "functional")
    save_tfjs(load_model(REFERENCE / "mlp.keras"), root / "mlp")
    broken = root / "broken"
    (broken / "malformed").mkdir(parents=True)
    (broken / "malformed" / "model.json").write_text('{"format": "layers-model", "weightsMan')
    save_tfjs(load_model(REFERENCE / "mlp.keras"), broken / "missing_shard", shard_size=64)
    shards = len(list((broken / "missing_shard").glob("*.bin")))
    (broken / "missing_shard" / f"group1-shard2of{shards}.bin").unlink()
    return root


def third_party_page(folder, filename):
    """A page as another site would serve it: its own policy, which allows its inline script
    (the app's own policy allows none)."""
    response = serve_file(folder, filename)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' "
        "'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:")
    return response


def serve_test_pages(app):
    """tests/pages/ at /test-pages/ on this test's server only, as pages of another site."""
    app.add_url_rule("/test-pages/<path:filename>", "test_pages",
                     lambda filename: third_party_page(REPO_ROOT / "tests" / "pages", filename))


@pytest.fixture(scope="module")
def server(models_dir):
    app = create_app(models_dir=models_dir)
    # Pages outside the app, served by this test's server only.
    serve_test_pages(app)
    app.add_url_rule("/examples/<path:filename>", "examples",
                     lambda filename: third_party_page(EXAMPLE_PAGE.parent, filename))
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def context(playwright, tmp_path_factory, server):
    with local_chromium(playwright, server, tmp_path_factory.mktemp("profile"),
                        viewport={"width": 1000, "height": 760}) as context:
        yield context


@pytest.fixture(scope="module")
def native_cnn():
    return load_model(BUILT_MODELS / "mnist_cnn.keras", compile=False)


@pytest.fixture(scope="module")
def mnist_test():
    import webkeras as keras

    _, (x_test, y_test) = keras.datasets.mnist.load_data()
    return x_test.astype("float32") / 255.0, y_test


# -- /predict --------------------------------------------------------------------------------
def draw(page, points, before_up=None):
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    page.mouse.move(box["x"] + points[0][0] * scale, box["y"] + points[0][1] * scale)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=2)
    if before_up:
        before_up()
    page.mouse.up()


def wait_prediction(page, after):
    page.wait_for_function(f"window.webkerasPredict.predictions > {after}", timeout=60_000)
    # Settle: the last stroke's prediction, not one made mid-stroke.
    page.wait_for_timeout(300)
    page.wait_for_function("() => { const s = window.webkerasPredict; const n = s.predictions;"
                           " return new Promise(r => setTimeout(() => r(s.predictions === n),"
                           " 400)); }", timeout=60_000)
    return page.evaluate("window.webkerasPredict.last")


def test_predict_page_draws_and_predicts_live(context, server, native_cnn, results_dir):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/predict")
    page.wait_for_function("['ready', 'error'].includes(window.webkerasPredict.status)",
                           timeout=180_000)
    assert page.evaluate("window.webkerasPredict.status") == "ready", page.text_content("#error")
    assert page.get_attribute("#backend", "data-backend") == "webgpu"  # "auto" with an adapter
    assert page.text_content("#backend").startswith("webgpu · ")

    # A "1": one stroke; predictions arrive while the button is still down (live).
    seen_while_drawing = []
    one = [(140 + i, 40 + 10 * i) for i in range(21)]
    draw(page, one, before_up=lambda: seen_while_drawing.append(page.wait_for_function(
        "window.webkerasPredict.predictions > 0", timeout=60_000) and True))
    last = wait_prediction(page, 0)
    assert seen_while_drawing == [True]
    assert last["label"] == 1, last["probabilities"]

    # The bar chart shows exactly the probabilities the model returned.
    bars = page.evaluate("Chart.getChart(document.getElementById('bars')).data.datasets[0].data")
    np.testing.assert_allclose(bars, last["probabilities"])
    assert math.isclose(sum(last["probabilities"]), 1.0, abs_tol=1e-4)
    native = native_cnn.predict_on_batch(np.asarray(last["input"], "float32").reshape(1, 28, 28, 1))
    np.testing.assert_allclose(last["probabilities"], native[0], atol=TOLERANCE)

    # Clear, then a "0": an ellipse.
    page.click("#clear")
    count = page.evaluate("window.webkerasPredict.predictions")
    zero = [(140 + 70 * math.sin(t / 20 * 2 * math.pi), 140 - 100 * math.cos(t / 20 * 2 * math.pi))
            for t in range(22)]
    draw(page, zero)
    last = wait_prediction(page, count)
    assert last["label"] == 0, last["probabilities"]
    native = native_cnn.predict_on_batch(np.asarray(last["input"], "float32").reshape(1, 28, 28, 1))
    np.testing.assert_allclose(last["probabilities"], native[0], atol=TOLERANCE)
    assert re.fullmatch(r"0 \d+\.\d%", page.text_content("#answer").strip())
    page.screenshot(path=str(results_dir / "predict.png"))
    assert not errors, errors


def test_predict_page_explains_an_unusable_model(context, server):
    page = context.new_page()
    page.goto(server + "/predict?model=/models/mlp/model.json")
    page.wait_for_function("['ready', 'error'].includes(window.webkerasPredict.status)",
                           timeout=180_000)
    assert page.evaluate("window.webkerasPredict.status") == "error"
    assert "This page draws 28×28 digits" in page.text_content("#error")


# -- the JS API from a separate page ---------------------------------------------------------
@pytest.fixture(scope="module")
def api_page(context, server):
    page = context.new_page()
    page.goto(server + "/test-pages/js_api.html")
    page.wait_for_function("window.pageReady === true")
    return page


def api_predict(page, url, inputs, call="model.predict(...args)"):
    """Load `url` (cached per page) and run `call` with args = inputs; outputs as lists."""
    return page.evaluate(
        """async ([url, inputs, call]) => {
             window.models = window.models || {};
             const model = window.models[url] || (window.models[url] = await window.load(url));
             const args = inputs.map(([data, shape]) => [new Float32Array(data), shape]);
             const toPlain = (o) => ({data: Array.from(o.data), shape: o.shape});
             const out = await eval(call);
             return Array.isArray(out) ? out.map(toPlain) : toPlain(out);
           }""", [url, inputs, call])


def test_js_api_loads_with_progress_and_predicts_mnist(api_page, server, native_cnn,
                                                          mnist_test):
    x_test, y_test = mnist_test
    x = x_test[:16, :, :, None]
    got = api_predict(api_page, "/models/mnist_cnn/model.json",
                      [[x.ravel().tolist(), list(x.shape)]],
                      call="model.predict(args[0][0], args[0][1])")
    assert got["shape"] == [16, 10]
    probabilities = np.asarray(got["data"], "float32").reshape(16, 10)
    np.testing.assert_allclose(probabilities, native_cnn.predict_on_batch(x), atol=TOLERANCE)
    assert (probabilities.argmax(1) == y_test[:16]).mean() >= 0.9

    progress = api_page.evaluate("window.progress")
    stages = [p["stage"] for p in progress]
    assert stages[0] == "runtime" and stages[-1] == "ready"
    assert "weights" in stages and "build" in stages
    # The weights download while the runtime boots, not after it.
    assert stages.index("weights") < len(stages) - 1 - stages[::-1].index("runtime"), stages
    weights = [p for p in progress if p["stage"] == "weights"]
    assert weights[-1]["fraction"] == 1 and weights[-1]["loaded"] == weights[-1]["total"]
    shard = (BUILT_MODELS / "mnist_cnn" / "group1-shard1of1.bin").stat().st_size
    assert weights[-1]["total"] >= shard

    model = api_page.evaluate(
        "(async () => { const m = window.models['/models/mnist_cnn/model.json'];"
        " return {name: m.name, inputs: m.inputs, outputs: m.outputs}; })()")
    assert model == {"name": "mnist_cnn",
                     "inputs": [{"name": "input_layer", "shape": [None, 28, 28, 1],
                                 "dtype": "float32"}],
                     "outputs": [{"name": None, "shape": [None, 10], "dtype": "float32"}]}


def test_js_api_input_forms(api_page, native_cnn, mnist_test):
    x_test, _ = mnist_test
    url = "/models/mnist_cnn/model.json"
    one = x_test[:1, :, :, None]
    expected = native_cnn.predict_on_batch(one)
    # Nested arrays, shape inferred.
    nested = api_page.evaluate(
        """async ([url, image]) => { const m = window.models[url] || await window.load(url);
             const y = await m.predict([image.map(row => row.map(v => [v]))]);
             return {array: y.array(), shape: y.shape}; }""", [url, x_test[0].tolist()])
    assert nested["shape"] == [1, 10]
    np.testing.assert_allclose(nested["array"], expected, atol=TOLERANCE)
    # A flat typed array without a shape: the model's input shape, batch size implied.
    flat = api_predict(api_page, url, [[one.ravel().tolist(), None]],
                       call="model.predict(args[0][0])")
    np.testing.assert_allclose(np.reshape(flat["data"], (1, 10)), expected, atol=TOLERANCE)
    # More than one internal batch (webkeras predicts in chunks of 256).
    many = x_test[:300, :, :, None]
    out = api_predict(api_page, url, [[many.ravel().tolist(), list(many.shape)]],
                      call="model.predict(args[0][0], args[0][1])")
    np.testing.assert_allclose(np.reshape(out["data"], (300, 10)),
                               native_cnn.predict(many, verbose=0), atol=TOLERANCE)


def test_js_api_keras_file_and_multi_io_model(api_page, native_cnn, mnist_test):
    x_test, _ = mnist_test
    x = x_test[:4, :, :, None]
    got = api_predict(api_page, "/models/mnist_cnn.keras", [[x.ravel().tolist(), list(x.shape)]],
                      call="model.predict(args[0][0], args[0][1])")
    np.testing.assert_allclose(np.reshape(got["data"], (4, 10)), native_cnn.predict_on_batch(x),
                               atol=TOLERANCE)

    with np.load(REFERENCE / "functional.npz") as arrays:
        xs = [arrays["x0"], arrays["x1"]]
        ys = [arrays["y0"], arrays["y1"]]
    outputs = api_predict(api_page, "/models/functional/model.json",
                          [[a.ravel().tolist(), list(a.shape)] for a in xs],
                          call="model.predict(args)")
    assert [o["shape"] for o in outputs] == [list(y.shape) for y in ys]
    for output, y in zip(outputs, ys):
        np.testing.assert_allclose(np.reshape(output["data"], y.shape), y, atol=TOLERANCE)


@pytest.mark.parametrize("url, message", [
    ("/models/nothing/model.json", r"/models/nothing/model\.json -> HTTP 404"),
    ("/models/broken/malformed/model.json", r"model\.json is not valid JSON"),
    ("/models/broken/missing_shard/model.json", r"group1-shard2of\d+\.bin -> HTTP 404"),
    ("/models/mnist_cnn/group1-shard1of1.bin",
     r"expected a TF\.js model\.json, a \.keras or an \.h5"),
])
def test_js_api_load_errors_reject_with_the_reason(api_page, url, message):
    error = api_page.evaluate("(url) => window.load(url).then(() => null, (e) => e.message)", url)
    assert error is not None and re.search(message, error), error


def test_js_api_predict_errors_then_keeps_working(api_page, mnist_test):
    url = "/models/mnist_cnn/model.json"
    error = api_page.evaluate(
        """async (url) => { const m = window.models[url] || await window.load(url);
             return m.predict(new Float32Array(10), [1, 10]).then(() => null, e => e.message); }""",
        url)
    assert "expected shape ['batch', 28, 28, 1], received [1, 10]" in error, error
    error = api_page.evaluate(
        """async (url) => { const m = window.models[url];
             return m.predict(new Float32Array(100), [1, 28, 28, 1])
               .then(() => null, e => e.message); }""",
        url)
    assert "100 values do not fill shape [1, 28, 28, 1]" in error, error
    x = mnist_test[0][:1, :, :, None]
    ok = api_predict(api_page, url, [[x.ravel().tolist(), list(x.shape)]],
                     call="model.predict(args[0][0], args[0][1])")
    assert ok["shape"] == [1, 10]


def test_js_api_predicts_through_a_traced_plan_that_follows_the_weights(context, server,
                                                                         native_cnn, mnist_test):
    """On the NumPy backend a model loaded without compile predicts through a replayed plan
    (web/model_api.py) after its first batches, with each convolution's bias and ReLU fused
    into it: same outputs as native, and it reads the weights setWeights writes (the plan
    holds the variables, not copies)."""
    x = mnist_test[0][:6, :, :, None]
    page = context.new_page()
    page.goto(server + "/test-pages/js_api.html")
    page.wait_for_function("window.pageReady === true")
    got = page.evaluate(
        """async (images) => {
             await window.api.init({ backend: "numpy" });
             const m = await window.load("/models/mnist_cnn.keras");
             const outs = [];
             for (const image of images) {
               outs.push(Array.from((await m.predict(new Float32Array(image),
                                                     [1, 28, 28, 1])).data));
             }
             const replayed = await window.api.runPython(
               `import webkeras_model_api as api\n` +
               `[[c[0].__name__ for c in s.plan.calls] if s.plan else None\n` +
               ` for s in api._predict_plans[${m.id}]._signatures.values()]`);
             const weights = await m.getWeights();
             await m.setWeights(weights.map(({ data, shape }) =>
               ({ data: new Float32Array(data.length), shape })));
             const zeroed = Array.from((await m.predict(new Float32Array(images[0]),
                                                        [1, 28, 28, 1])).data);
             return { outs, replayed, zeroed };
           }""", [image.ravel().tolist() for image in x])
    page.close()
    # One plan (the first predict's batch only recorded: the page predicts the rest itself,
    # from the plan the worker exports); each Conv2D's bias and ReLU in its convolution's call.
    plans = [calls for calls in got["replayed"] if calls]
    assert plans == [["conv_bias_relu", "pool", "conv_bias_relu", "pool", "reshape", "matmul",
                      "binary", "softmax"]], got["replayed"]
    np.testing.assert_allclose(np.reshape(got["outs"], (6, 10)), native_cnn.predict_on_batch(x),
                               atol=TOLERANCE)
    np.testing.assert_allclose(got["zeroed"], np.full(10, 0.1), atol=1e-6)


# -- the README's example --------------------------------------------------------------------
def test_readme_example_page_runs_as_written(context, server):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf8")
    assert EXAMPLE_PAGE.read_text(encoding="utf8").strip() in readme, (
        "README.md must show examples/web/predict_digit.html verbatim")
    page = context.new_page()
    page.goto(server + "/examples/predict_digit.html")
    page.wait_for_function("document.getElementById('result').textContent !== ''",
                           timeout=180_000)
    result = page.text_content("#result")
    assert result.startswith("predicted class 1\n"), result
    assert page.text_content("#status").startswith("Loaded mnist_cnn")
