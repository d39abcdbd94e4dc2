"""Saving in the tab: train on /train, download the `.keras`, load it natively; and
`keras.utils.get_file` + `load_model` from a URL inside the tab.

The server is the real app plus one test-only route, /test-models/<name>, serving a temporary
folder (production routes for models belong to server/app.py, not to this test), with a log of
every path the page and its worker request.
"""

import hashlib
import json
import os
import shutil
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import webkeras
from conftest import create_app, serve_app
from webkeras.server.browser import BOOT_TIMEOUT_MS, run_python, wait_ready
from webkeras.utils import file_utils

REFERENCE = Path(__file__).resolve().parent / "reference" / "saving"
TRAIN_TIMEOUT_MS = 300_000
PREDICT_IMAGES = 32

# The tab's predictions on the first test images, from the model train_mnist.py trained.
TAB_PREDICT = textwrap.dedent(
    f"""
    import hashlib, json
    import webkeras as keras
    import webkeras_train_mnist as page
    (_, _), (x_test, _) = keras.datasets.mnist.load_data()
    x = x_test[:{PREDICT_IMAGES}].astype("float32") / 255.0
    with open(page.SAVE_PATH, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    json.dumps({{"predictions": page.trained_model.predict(x, verbose=0).tolist(),
                "sha256": sha256}})
    """
)


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    """(URL, folder served at /test-models/, list of requested paths)."""
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(REFERENCE / "mlp.keras", folder / "mlp.keras")
    app = create_app()
    log = []

    @app.before_request
    def record():
        from flask import request

        log.append(request.path)

    @app.get("/test-models/<name>")
    def model_file(name):
        from flask import send_from_directory

        return send_from_directory(folder, name, max_age=0)

    with serve_app(app) as url:
        yield url, folder, log


@pytest.fixture(scope="module")
def server_url(model_server):
    """Overrides conftest's: the pages of this module talk to `model_server`."""
    return model_server[0]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_train_save_and_download(open_page, results_dir, tmp_path):
    if not os.path.isfile(os.path.join(file_utils.data_dir(), "mnist.npz")):
        pytest.skip(f"mnist.npz not in {file_utils.data_dir()}: run `make setup`")
    # Seeded (the page's default seed otherwise): the same model, so the same accuracy.
    page = open_page("/train?samples=2000&epochs=1&batch_size=64&backend=numpy&seed=1337")
    assert page.locator("#download").is_hidden()
    page.click("#train", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_function(
        "document.getElementById('status').dataset.state === 'done'"
        " || !document.getElementById('error').hidden",
        timeout=TRAIN_TIMEOUT_MS,
    )
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    assert page.locator("#download").is_visible()
    info = page.text_content("#saved-info")
    page.screenshot(path=str(results_dir / "train_saved.png"), full_page=True)

    started = time.perf_counter()
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    download_seconds = time.perf_counter() - started
    assert download.suggested_filename == "mnist_mlp.keras"
    assert page.locator("#error").is_hidden(), page.text_content("#error")

    tab = json.loads(run_python(page, TAB_PREDICT))
    # The downloaded bytes are the file the tab saved.
    assert sha256(saved) == tab["sha256"]
    assert int(page.get_attribute("#download", "data-bytes")) == saved.stat().st_size

    webkeras.backend.set_backend("numpy")
    model = webkeras.saving.load_model(saved)
    (_, _), (x_test, y_test) = webkeras.datasets.mnist.load_data()
    x = x_test[:PREDICT_IMAGES].astype("float32") / 255.0
    native = model.predict(x, verbose=0)
    in_tab = np.asarray(tab["predictions"], dtype="float32")
    max_diff = float(np.abs(native - in_tab).max())
    assert max_diff <= 1e-5, max_diff
    # A trained model, not a fresh one: most of the 32 digits are right.
    accuracy = float((native.argmax(-1) == y_test[:PREDICT_IMAGES]).mean())
    assert accuracy >= 0.75, accuracy
    print(f"saved {info}; downloaded {saved.stat().st_size} B in {download_seconds:.2f} s; "
          f"max |native - tab| {max_diff:.2e}; accuracy on {PREDICT_IMAGES}: {accuracy:.2f}")


LOAD_FROM_URL = textwrap.dedent(
    """
    import json, time
    import numpy as np
    import webkeras as keras

    keras.backend.set_backend("numpy")
    x = np.array(X0, dtype="float32")
    started = time.perf_counter()
    path = keras.utils.get_file(origin="/test-models/mlp.keras", file_hash=SHA256)
    seconds = time.perf_counter() - started
    model = keras.models.load_model(path)
    again = keras.utils.get_file(origin="/test-models/mlp.keras")
    json.dumps({"path": path, "again": again, "seconds": seconds,
                "predictions": model.predict(x, verbose=0).tolist()})
    """
)

AFTER_RELOAD = textwrap.dedent(
    """
    import json
    import webkeras as keras

    def error_of(**kwargs):
        try:
            keras.utils.get_file(**kwargs)
        except Exception as error:
            return f"{type(error).__name__}: {error}"

    out = {"cached": keras.utils.get_file(origin="/test-models/mlp.keras", file_hash=SHA256)}
    out["missing"] = error_of(origin="/test-models/missing.keras")
    out["corrupted"] = error_of(fname="other.keras", origin="/test-models/mlp.keras",
                                file_hash="0" * 64)
    out["forced"] = keras.utils.get_file(origin="/test-models/mlp.keras", force_download=True)
    json.dumps(out)
    """
)


def test_get_file_and_load_model_in_the_tab(open_page, model_server):
    url, folder, log = model_server
    reference = np.load(REFERENCE / "mlp.npz")
    digest = sha256(folder / "mlp.keras")
    setup = f"X0 = {reference['x0'].tolist()!r}\nSHA256 = {digest!r}\n"
    page = open_page("/train?backend=numpy")
    wait_ready(page)

    tab = json.loads(run_python(page, setup + LOAD_FROM_URL))
    assert tab["path"] == "/home/pyodide/.webkeras/datasets/mlp.keras" == tab["again"]
    # The relative origin resolved against the page's server; the second call was a cache hit.
    assert log.count("/test-models/mlp.keras") == 1
    native = webkeras.saving.load_model(folder / "mlp.keras").predict(reference["x0"], verbose=0)
    max_diff = float(np.abs(np.asarray(tab["predictions"]) - native).max())
    assert max_diff <= 1e-5, max_diff

    # A new page load: the file comes from Cache Storage (it had a sha256), not the server.
    page.reload()
    wait_ready(page)
    after = json.loads(run_python(page, setup + AFTER_RELOAD))
    assert after["cached"] == tab["path"]
    assert f"URL fetch failure on {url}/test-models/missing.keras: 404" in after["missing"]
    assert after["corrupted"].startswith("ValueError: Incomplete or corrupted file detected. "
                                         f"The sha256 file hash does not match the provided "
                                         f"value of {'0' * 64}"), after["corrupted"]
    assert digest in after["corrupted"]
    assert after["forced"] == tab["path"]
    # Cached: 0 requests; corrupted: 1 (its cache entry is dropped and fetched again); forced: 1.
    assert log.count("/test-models/mlp.keras") == 3
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    print(f"get_file in the tab: {tab['seconds'] * 1000:.0f} ms; max |tab - native| "
          f"{max_diff:.2e}")
