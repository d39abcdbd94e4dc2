"""The JS API's training half (/webkeras.js) in headless Chromium, on the real server:
runPython, compile / fit / evaluate / save / getWeights / setWeights / summary, and the
"teach it your handwriting" page.

The page under test is tests/pages/js_api.html (only the public JS API); the MNIST CNN is the
one `make setup` trains (build/models/), the data are the repo's MNIST files. What the tab
trains or saves is checked against native webkeras on the same weights.
"""

import base64
import io
import math
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import webkeras as keras
from conftest import TEST_SEED, create_app, default_build_dir, local_chromium
# The same requirements (runtime, the built MNIST CNN, Chromium) as the JS API predict tests.
from test_browser_predict import draw, pytestmark, serve_test_pages  # noqa: F401
from webkeras.saving import load_model
from webkeras.saving.tfjs import load_tfjs
from webkeras.server.browser import serve_app

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILT_MODELS = default_build_dir() / "models"
REFERENCE = REPO_ROOT / "tests" / "reference" / "saving"
CNN_URL = "/models/mnist_cnn/model.json"
MLP_URL = "/models/fresh_mlp.keras"  # untrained: fit has something to learn
# Tab (WebGPU on SwiftShader, or NumPy in wasm) against native NumPy + BLAS, same weights.
TOLERANCE = 1e-4



@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(BUILT_MODELS / "mnist_cnn", root / "mnist_cnn")  # /handwriting's model
    keras.utils.set_random_seed(TEST_SEED)
    # Named layers: default names count every layer this process made before (test order).
    mlp = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                            keras.layers.Dense(32, activation="relu", name="dense"),
                            keras.layers.Dense(10, activation="softmax", name="dense_1")],
                           name="fresh_mlp")
    mlp.save(root / "fresh_mlp.keras")
    shutil.copy(REFERENCE / "functional.keras", root / "functional.keras")  # 2 in, 2 out
    return root


@pytest.fixture(scope="module")
def mnist():
    """512 training and 256 test images of the repo's MNIST (uint8, as the files hold them)."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train[:512], y_train[:512]), (x_test[:256], y_test[:256])


@pytest.fixture(scope="module")
def server(models_dir):
    app = create_app(models_dir=models_dir)
    serve_test_pages(app)
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


def put_mnist(page, name, images, labels):
    """window[name] = {x: {data: Float32Array in [0, 1], shape: [n, 28, 28, 1]}, y: Uint8Array}."""
    page.evaluate(
        """([name, images, labels, n]) => { const pixels = window.fromBase64(images);
             window[name] = {x: {data: Float32Array.from(pixels, (v) => v / 255),
                                 shape: [n, 28, 28, 1]},
                             y: window.fromBase64(labels)}; }""",
        [name, base64.b64encode(images.tobytes()).decode(),
         base64.b64encode(labels.astype("uint8").tobytes()).decode(), len(images)])


def as_x(images):
    return (images.astype("float32") / 255)[..., None]


def tab_weights(page, model="window.mlp"):
    weights = page.evaluate(f"async () => (await {model}.getWeights())"
                            ".map((w) => ({data: Array.from(w.data), shape: w.shape}))")
    return [np.asarray(w["data"], "float32").reshape(w["shape"]) for w in weights]


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


# -- compile / fit / evaluate / save --------------------------------------------------------
@pytest.fixture(scope="module")
def trained(api_page, mnist):
    """The fresh MLP, fitted in the tab on 512 MNIST images (3 epochs); what fit reported."""
    (x_train, y_train), (x_test, y_test) = mnist
    put_mnist(api_page, "train", x_train, y_train)
    put_mnist(api_page, "test", x_test, y_test)
    return api_page.evaluate(
        """async (url) => {
             window.mlp = await window.load(url);
             await window.mlp.compile({optimizer: {className: "Adam",
                                                   config: {learning_rate: 0.003}},
                                       loss: "sparse_categorical_crossentropy",
                                       metrics: ["accuracy"]});
             const batches = [], epochs = [];
             const before = await window.mlp.evaluate(window.test.x, window.test.y,
                                                      {returnDict: true});
             const history = await window.mlp.fit(window.train.x, window.train.y, {
               epochs: 3, batchSize: 64, shuffle: true,
               onBatchEnd: (batch, logs) => batches.push([batch, logs.loss]),
               onEpochEnd: (epoch, logs) => epochs.push([epoch, logs])});
             return {before, history, batches, epochs}; }""", MLP_URL)


def test_fit_lowers_the_loss_on_mnist(trained):
    history = trained["history"]
    assert history["epoch"] == [0, 1, 2]
    assert set(history["history"]) == {"loss", "accuracy"}
    losses = history["history"]["loss"]
    assert losses[2] < losses[0] < trained["before"]["loss"], (trained["before"], losses)
    assert history["history"]["accuracy"][2] > 0.6
    assert history["params"] == {"verbose": 0, "epochs": 3, "steps": 8}
    # onBatchEnd saw 8 batches per epoch as they ran; onEpochEnd the History's numbers.
    assert [b for b, _ in trained["batches"]] == list(range(8)) * 3
    assert [e for e, _ in trained["epochs"]] == [0, 1, 2]
    assert [logs["loss"] for _, logs in trained["epochs"]] == pytest.approx(losses)


def test_evaluate_matches_native_on_the_same_weights(api_page, trained, mnist):
    _, (x_test, y_test) = mnist
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.set_weights(tab_weights(api_page))
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    expected = model.evaluate(as_x(x_test), y_test, verbose=0, batch_size=32)
    got = api_page.evaluate(
        "() => window.mlp.evaluate(window.test.x, window.test.y, {batchSize: 32})")
    assert got == pytest.approx(expected, abs=TOLERANCE)
    as_dict = api_page.evaluate(
        "() => window.mlp.evaluate(window.test.x, window.test.y, {returnDict: true})")
    assert as_dict == pytest.approx({"loss": expected[0], "accuracy": expected[1]},
                                    abs=TOLERANCE)
    # Nested arrays and one-hot labels as {data, shape} work the same.
    one_hot = np.eye(10, dtype="float32")[y_test[:8]]
    nested = api_page.evaluate(
        """([x, y]) => window.mlp.evaluate(x, {data: new Float32Array(y.flat()), shape: [8, 10]})
             .then(null, (e) => e.message)""",
        [as_x(x_test[:8]).tolist(), one_hot.tolist()])
    assert "`y_true` must hold one class index per sample" in nested, nested


@pytest.mark.parametrize("target", ["trained.keras", "trained.h5"])
def test_saved_file_loads_natively_with_the_same_weights(api_page, trained, tmp_path, target):
    saved = api_page.evaluate(
        """async (target) => { const file = await window.mlp.save(target);
             return {name: file.name, type: file.type, size: file.size,
                     bytes: await window.blobBase64(file)}; }""", target)
    assert saved["name"] == target and saved["size"] > 0
    path = tmp_path / target
    path.write_bytes(base64.b64decode(saved["bytes"]))
    native = load_model(path)
    for got, expected in zip(native.get_weights(), tab_weights(api_page), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    # Compiled as in the tab: the native model evaluates with the same loss and metric.
    assert native.loss == "sparse_categorical_crossentropy"


def test_saved_tfjs_zip_loads_natively(api_page, trained, tmp_path):
    saved = api_page.evaluate(
        """async () => { const file = await window.mlp.save("tfjs");
             return {name: file.name, bytes: await window.blobBase64(file)}; }""")
    assert saved["name"] == "fresh_mlp_tfjs.zip"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(saved["bytes"]))) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    assert "model.json" in names and any(name.endswith(".bin") for name in names), names
    native = load_tfjs(tmp_path / "model.json")
    for got, expected in zip(native.get_weights(), tab_weights(api_page), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_weights_round_trip_and_summary(api_page, trained):
    weights = tab_weights(api_page)
    assert [w.shape for w in weights] == [(784, 32), (32,), (32, 10), (10,)]
    # setWeights with nested arrays: the tab predicts with exactly those weights.
    zeroed = [np.zeros_like(w) for w in weights]
    api_page.evaluate("(ws) => window.mlp.setWeights(ws)", [w.tolist() for w in zeroed])
    out = api_page.evaluate("async () => Array.from((await window.mlp.predict("
                            "new Float32Array(784), [1, 28, 28, 1])).data)")
    np.testing.assert_allclose(out, np.full(10, 0.1), atol=1e-6)
    api_page.evaluate("(ws) => window.mlp.setWeights(ws.map(([data, shape]) =>"
                      " ({data: new Float32Array(data), shape})))",
                      [[w.ravel().tolist(), list(w.shape)] for w in weights])
    for got, expected in zip(tab_weights(api_page), weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    summary = api_page.evaluate("() => window.mlp.summary()")
    assert summary.startswith('Model: "fresh_mlp"'), summary
    assert "Trainable params: 25,450" in summary and "dense_1 (Dense)" in summary


def test_set_trainable_freezes_a_layer_in_fit(api_page, trained):
    layers = api_page.evaluate("() => window.mlp.setTrainable(1, false)")
    assert [(layer["name"], layer["trainable"]) for layer in layers] == [
        ("flatten", True), ("dense", False), ("dense_1", True)]
    before = tab_weights(api_page)
    api_page.evaluate(
        """async () => { await window.mlp.compile({optimizer: "sgd",
                                                   loss: "sparse_categorical_crossentropy"});
             await window.mlp.fit(window.train.x, window.train.y, {epochs: 1, batchSize: 128});
             await window.mlp.setTrainable("dense", true); }""")
    after = tab_weights(api_page)
    np.testing.assert_array_equal(after[0], before[0])  # frozen
    assert np.abs(after[2] - before[2]).max() > 0  # trained
    assert api_page.evaluate("window.mlp.layers[1].trainable") is True


def test_fit_validation_split(api_page, trained):
    history = api_page.evaluate(
        """async () => { await window.mlp.compile({optimizer: "sgd",
                                                   loss: "sparse_categorical_crossentropy",
                                                   metrics: ["accuracy"]});
             return window.mlp.fit(window.train.x, window.train.y,
                                   {epochs: 1, batchSize: 64, validationSplit: 0.25}); }""")
    assert sorted(history["history"]) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history["params"]["steps"] == 6  # 384 of the 512 images train


def test_several_inputs_and_outputs_as_lists_and_by_name(api_page):
    """The reference functional model (inputs a, b; outputs out1, out2): evaluate with lists
    and with objects keyed by name gives native Keras's numbers; fit by name trains both."""
    native = load_model(REFERENCE / "functional.keras")
    with np.load(REFERENCE / "functional.npz") as arrays:
        xs = [arrays["x0"], arrays["x1"]]
    rng = np.random.default_rng(TEST_SEED)
    ys = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(3, 1)).astype("float32")]
    native.compile(optimizer="sgd", loss=["mse", "mse"])
    expected = native.evaluate(xs, ys, verbose=0)
    tensors = [[[{"data": a.ravel().tolist(), "shape": list(a.shape)} for a in group]
                for group in (xs, ys)]]
    got = api_page.evaluate(
        """async ([[xs, ys]]) => {
             const typed = (list) => list.map(({data, shape}) =>
               ({data: new Float32Array(data), shape}));
             const [x, y] = [typed(xs), typed(ys)];
             const model = window.functional = await window.load("/models/functional.keras");
             await model.compile({optimizer: "sgd", loss: ["mse", "mse"]});
             const asLists = await model.evaluate(x, y);
             const byName = await model.evaluate({a: x[0], b: x[1]}, {out1: y[0], out2: y[1]},
                                                 {returnDict: true});
             const history = await model.fit({a: x[0], b: x[1]}, {out1: y[0], out2: y[1]},
                                             {epochs: 2});
             return {asLists, byName, history}; }""", tensors)
    assert got["asLists"] == pytest.approx(expected, abs=TOLERANCE)
    assert got["byName"] == pytest.approx(
        {"loss": expected[0], "out1_loss": expected[1], "out2_loss": expected[2]},
        abs=TOLERANCE)
    assert sorted(got["history"]["history"]) == ["loss", "out1_loss", "out2_loss"]
    error = reject_message(api_page, "window.functional.fit(arg, arg)",
                           xs[0].tolist())
    assert error == ("fit: the model has 2 inputs; pass x as a list of 2 arrays or an object "
                     "keyed by their names."), error


# -- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("script, message", [
    ("fresh.fit(window.train.x, window.train.y)",
     r"^You must call `compile\(\)` before calling `fit\(\)`"),
    ("fresh.compile({optimizer: 'adamm', loss: 'mse'})",
     r"^Could not interpret optimizer identifier: 'adamm'"),
    ("fresh.compile({optimizer: 'adam', loss: 'sparse_crossentropy'})",
     r"^Unknown loss: received 'sparse_crossentropy'"),
    ("fresh.compile({optimiser: 'adam'})",
     r"^compile: unknown option 'optimiser'; expected one of optimizer, loss"),
    ("window.mlp.fit({data: new Float32Array(40), shape: [4, 10]}, new Uint8Array(4))",
     r"^Input 0 of model 'fresh_mlp': expected shape \['batch', 28, 28, 1\], "
     r"received \[4, 10\]"),
    ("window.mlp.fit(window.train.x, new Uint8Array(5))",
     r"^Data cardinality is ambiguous.*x sizes: \[512\], y sizes: \[5\]"),
    ("window.mlp.fit(window.train.x, window.train.y, {batchsize: 8})",
     r"^fit: unknown option 'batchsize'; expected one of epochs, batchSize"),
    ("window.mlp.fit(window.train.x, window.train.y, {epochs: 0})", r"epochs"),
    ("window.mlp.evaluate([[1, 2], [3]], window.test.y)", r"^evaluate x: ragged nested arrays"),
    ("window.mlp.save('model.txt')",
     r'^save: expected "name.keras", "name.h5" or "tfjs", received "model.txt"'),
    ("window.mlp.setWeights([new Float32Array(3)])",
     r"^Layer fresh_mlp expects 4 weights, but the weight list received has 1 elements"),
    ("window.mlp.setTrainable('conv9', false)", r"^No such layer: conv9\."),
])
def test_errors_reject_naming_the_problem(api_page, trained, script, message):
    error = api_page.evaluate(
        f"""async (url) => {{ const fresh = window.fresh ||= await window.load(url);
              return ({script}).then(() => null, (e) => e.message); }}""", MLP_URL)
    assert error is not None and re.search(message, error, re.S), error


# -- the handwriting page -------------------------------------------------------------------
def bar(y, x0=60, x1=220):
    """A horizontal stroke: a glyph no MNIST digit looks like."""
    return [(x, y) for x in range(x0, x1 + 1, 16)]


def ellipse(width=70, height=100):
    return [(140 + width * math.sin(t / 20 * 2 * math.pi),
             140 - height * math.cos(t / 20 * 2 * math.pi)) for t in range(22)]


def drawn(page, points):
    """Draws on a clear pad; the page's prediction for it once the stroke ends."""
    page.click("#clear")
    count = page.evaluate("window.webkerasHandwriting.predictions")
    draw(page, points)
    page.wait_for_function(f"window.webkerasHandwriting.predictions > {count}", timeout=60_000)
    return page.evaluate("window.webkerasHandwriting.last")


def test_handwriting_page_learns_a_drawn_glyph(context, server, tmp_path, results_dir):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/handwriting")
    page.wait_for_function("['ready', 'error'].includes(window.webkerasHandwriting.status)",
                           timeout=180_000)
    assert page.evaluate("window.webkerasHandwriting.status") == "ready", \
        page.text_content("#error")
    assert "frozen: conv2d, conv2d_1)" in page.text_content("#load-text")

    target = 7
    before = drawn(page, bar(150))
    assert before["label"] != target, before
    assert drawn(page, ellipse())["label"] == 0
    # Teach: four bars are a 7, four ellipses stay a 0.
    for y, (x0, x1) in zip((110, 140, 170, 200), ((50, 210), (70, 230), (60, 220), (80, 200))):
        drawn(page, bar(y, x0, x1))
        page.click(f"#label-{target}")
    for width, height in ((60, 100), (75, 95), (55, 90), (70, 105)):
        drawn(page, ellipse(width, height))
        page.click("#label-0")
    assert page.text_content("#example-count") == "8 examples"
    page.fill("#epochs", "15")
    page.click("#fit")
    page.wait_for_function("window.webkerasHandwriting.fits === 1", timeout=300_000)
    assert page.text_content("#error") == "", page.text_content("#error")
    losses = page.evaluate("window.webkerasHandwriting.history.history.loss")
    assert len(losses) == 15 and losses[-1] < losses[0], losses
    chart = page.evaluate("Chart.getChart(document.getElementById('loss')).data.datasets[0].data")
    assert chart == pytest.approx(losses)

    after = drawn(page, bar(150))
    assert after["label"] == target, after["probabilities"]
    assert after["probabilities"][target] > before["probabilities"][target]
    assert drawn(page, ellipse())["label"] == 0
    page.screenshot(path=str(results_dir / "handwriting.png"))

    # The download is the fine-tuned model: natively it predicts what the tab predicted, its
    # convolutions are the shipped ones (frozen) and its classifier changed.
    with page.expect_download() as download_info:
        page.click("#download")
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    assert path.name == "mnist_cnn_handwriting.keras"
    tuned = load_model(path)
    image = np.asarray(after["input"], "float32").reshape(1, 28, 28, 1)
    np.testing.assert_allclose(tuned.predict_on_batch(image)[0], after["probabilities"],
                               atol=TOLERANCE)
    shipped = load_model(BUILT_MODELS / "mnist_cnn.keras", compile=False)
    for layer in ("conv2d", "conv2d_1"):
        for got, expected in zip(tuned.get_layer(layer).get_weights(),
                                 shipped.get_layer(layer).get_weights(), strict=True):
            np.testing.assert_array_equal(got, expected)
    assert not np.allclose(tuned.get_layer("dense").get_weights()[0],
                           shipped.get_layer("dense").get_weights()[0])

    # Reset: the shipped weights predict the bar as before.
    page.click("#reset")
    page.wait_for_function("document.getElementById('fit-status').textContent"
                           ".startsWith('Back to the shipped weights')", timeout=60_000)
    assert drawn(page, bar(150))["probabilities"] == pytest.approx(before["probabilities"],
                                                                   abs=TOLERANCE)
    assert not errors, errors
