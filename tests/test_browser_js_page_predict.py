"""The JS API's page-thread predict (web/cpu_replay.js) in headless Chromium, on the real server.

On the NumPy backend, once the worker has traced a model's predict and every call of it is one
of the WASM kernels' (trainers/plan_export.py), /webkeras.js runs predict on the page's own
thread with the same kernels. Each case compares the page's outputs with the worker's own
predict of the same model and inputs (`predict_on_batch` through runPython), checks where the
predict ran (`model.predictsOnPage`), and that weights changed in the worker reach the page.
The MNIST CNN is the one `make setup` trains; the images are the repo's MNIST test images.
"""

import shutil

import numpy as np
import pytest
import webkeras as keras
from conftest import TEST_SEED, create_app, local_chromium
# The same requirements (runtime, the built MNIST CNN, Chromium) as the JS API predict tests.
from test_browser_predict import BUILT_MODELS, pytestmark, serve_test_pages  # noqa: F401
from webkeras.server.browser import serve_app

# The page's kernels are the worker's; what may differ is the order of a few float32 sums (the
# bias at the start of a fused convolution's sums or after them; NumPy's small products).
RELATIVE = 1e-6


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(BUILT_MODELS / "mnist_cnn", root / "mnist_cnn")
    keras.utils.set_random_seed(TEST_SEED)
    mlp = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                            keras.layers.Dense(64, activation="relu", name="dense"),
                            keras.layers.Dense(10, activation="softmax", name="dense_1")],
                           name="page_mlp")
    mlp.save(root / "mlp.keras")
    # padding="same" (zero padding on the page), average pooling, two convolutions.
    same = keras.Sequential([keras.Input((28, 28, 1)),
                             keras.layers.Conv2D(8, 3, padding="same", activation="relu",
                                                 name="conv2d"),
                             keras.layers.AveragePooling2D(2, name="pool"),
                             keras.layers.Conv2D(4, 5, padding="same", name="conv2d_1"),
                             keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(10, activation="softmax", name="dense")],
                            name="same_cnn")
    same.save(root / "same.keras")
    # tanh has no kernel on the page: this one keeps predicting in the worker.
    tanh = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(16, activation="tanh", name="dense")],
                            name="tanh_mlp")
    tanh.save(root / "tanh.keras")
    return root


@pytest.fixture(scope="module")
def mnist_images():
    _, (x_test, _) = keras.datasets.mnist.load_data()
    return (x_test[:32].astype("float32") / 255)[..., None]


@pytest.fixture(scope="module")
def page(playwright, tmp_path_factory, models_dir):
    app = create_app(models_dir=models_dir)
    serve_test_pages(app)
    with serve_app(app) as url, local_chromium(playwright, url,
                                               tmp_path_factory.mktemp("profile")) as context:
        page = context.new_page()
        page.goto(url + "/test-pages/js_api.html")
        page.wait_for_function("window.pageReady === true")
        page.evaluate("() => window.api.init({ backend: 'numpy' })")
        yield page


def load(page, name, url):
    page.evaluate("async ([name, url]) => { window[name] = await window.load(url); }",
                  [name, url])


def predict(page, model, images):
    """[(outputs, predictsOnPage)] of `model` (a window global) predicting each batch."""
    return page.evaluate(
        """async ([model, batches]) => {
             const m = window[model];
             const out = [];
             for (const { data, shape } of batches) {
               const y = await m.predict(new Float32Array(data), shape);
               out.push([Array.from(y.data), y.shape, m.predictsOnPage]);
             }
             return out;
           }""", [model, [{"data": x.ravel().tolist(), "shape": list(x.shape)} for x in images]])


def worker_predict(page, model, x):
    """The worker's own predict_on_batch of `x` for `model`, via runPython."""
    values = page.evaluate(
        """async ([model, data, shape]) => window.api.runPython(
             `import numpy as np\\n` +
             `x = np.array(${JSON.stringify(data)}, dtype="float32").reshape(${shape})\\n` +
             `${window[model].pythonName}.predict_on_batch(x)`)""",
        [model, x.ravel().tolist(), "(" + ",".join(map(str, x.shape)) + ")"])
    return np.asarray(values, "float32")


def assert_same(got, expected):
    scale = np.max(np.abs(expected))
    assert np.max(np.abs(got - expected)) <= RELATIVE * scale, np.max(np.abs(got - expected))


def test_cnn_predicts_on_the_page_as_the_worker_does(page, mnist_images):
    load(page, "cnn", "/models/mnist_cnn/model.json")
    batches = [mnist_images[:1], mnist_images[1:2], mnist_images[:32], mnist_images[3:10],
               mnist_images[2:3]]
    results = predict(page, "cnn", batches)
    # The first predict runs in the worker (which then exports its plan), the rest here.
    assert [on_page for *_, on_page in results] == [False, True, True, True, True]
    assert page.evaluate("window.cnn.pagePredictUnavailable") is None
    for x, (data, shape, _) in zip(batches, results):
        assert shape == [len(x), 10]
        assert_same(np.reshape(data, shape), worker_predict(page, "cnn", x))


def test_mlp_and_padded_cnn_predict_on_the_page_and_a_tanh_model_falls_back(page,
                                                                            mnist_images):
    for name in ("mlp", "same", "tanh"):
        load(page, name, f"/models/{name}.keras")
    batches = [mnist_images[:1], mnist_images[:5], mnist_images[5:6]]
    for name, on_page in (("mlp", [False, True, True]), ("same", [False, True, True]),
                          ("tanh", [False, False, False])):
        results = predict(page, name, batches)
        assert [r[2] for r in results] == on_page, (name, page.evaluate(
            f"window.{name}.pagePredictUnavailable"))
        for x, (data, shape, _) in zip(batches, results):
            assert_same(np.reshape(data, shape), worker_predict(page, name, x))
    reason = page.evaluate("window.tanh.pagePredictUnavailable")
    assert "`unary`" in reason and "tanh" in reason, reason


def test_page_copy_follows_the_weights_after_fit_and_run_python(page, mnist_images):
    load(page, "fitted", "/models/mlp.keras")
    x = mnist_images[:8]
    (before, _, _), (page_before, _, on_page) = predict(page, "fitted", [x, x])
    assert on_page
    # A predict made while fit runs (not awaited) waits for it, as in the worker: the page asks
    # the worker for the weights version after the calls made before it.
    after, on_page = page.evaluate(
        """async ([data, labels]) => {
             const m = window.fitted;
             await m.compile({ optimizer: "sgd", loss: "sparse_categorical_crossentropy" });
             const x = { data: new Float32Array(data), shape: [8, 28, 28, 1] };
             const fitting = m.fit(x, labels, { epochs: 2, batchSize: 4, shuffle: false });
             const y = await m.predict(new Float32Array(data), [8, 28, 28, 1]);
             await fitting;
             return [Array.from(y.data), m.predictsOnPage];
           }""", [x.ravel().tolist(), [7, 2, 1, 0, 4, 1, 4, 9]])
    assert on_page
    after = np.reshape(after, (8, 10))
    assert np.max(np.abs(after - np.reshape(before, (8, 10)))) > 1e-4  # fit moved them
    assert_same(after, worker_predict(page, "fitted", x))
    # Weights set from runPython reach the page too: a zero last layer predicts 0.1 each.
    page.evaluate("""async () => window.api.runPython(
        `for w in ${window.fitted.pythonName}.layers[-1].weights: w.assign(w.numpy() * 0)`)""")
    [(zeroed, _, on_page)] = predict(page, "fitted", [x[:1]])
    assert on_page
    np.testing.assert_allclose(zeroed, np.full(10, 0.1), atol=1e-7)
