"""The worker's fast start (web/boot_snapshot.js) in headless Chromium, on the real server.

`make setup` makes a memory snapshot of the bare interpreter and bytecode for the packages
(scripts/make_boot_snapshot.py). A boot restores it and says so (`snapshot: true` in its ready
event); a second visit downloads nothing; the MNIST CNN predicts exactly what it predicts after
a normal boot. When the snapshot is missing, damaged or does not restore, the worker boots
normally and says why on the console.
"""

import contextlib
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from conftest import create_app, default_build_dir, local_chromium
from webkeras.server.browser import CHROMIUM, launch_chromium, serve_app

BUILD = default_build_dir()
PYODIDE = BUILD / "pyodide"
MANIFEST = PYODIDE / "webkeras-boot.json"
MODEL = "/models/mnist_cnn/model.json"
BOOT_TIMEOUT_MS = 180_000

pytestmark = [
    pytest.mark.skipif(not MANIFEST.is_file(), reason=f"{MANIFEST} is missing: run `make setup`"),
    pytest.mark.skipif(not (BUILD / "models" / "mnist_cnn" / "model.json").is_file(),
                       reason="build/models/mnist_cnn is missing: run `make setup`"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing"),
]

# Boots a fresh worker on the numpy backend; returns its ready event, the MNIST CNN's
# predictions for `images` (flat, 28x28 each) and a draw of Python's `random`.
BOOT_AND_PREDICT = """async ([model, images]) => {
  const { WorkerClient } = await import("/static/client.js");
  const client = new WorkerClient();
  try {
    const ready = await client.boot({ backend: "numpy" });
    const { id } = await client.request("load-model", { url: location.origin + model });
    const data = new Float32Array(images);
    const [output] = await client.request("predict",
      { model: id, inputs: [{ data, shape: [data.length / 784, 28, 28, 1] }] });
    const draw = await client.request("python", { code: "import random; random.random()" });
    return { ready, predictions: Array.from(output.data), shape: output.shape, draw };
  } finally {
    client.terminate();
  }
}"""


def mnist_images(count=4):
    import webkeras

    _, (x_test, _) = webkeras.datasets.mnist.load_data()
    return (x_test[:count].astype("float32") / 255.0).ravel().tolist()


def build_variant(root, snapshot=None):
    """A build folder like build/ whose pyodide/ has the boot files changed: `snapshot`
    "missing" drops the manifest, "damaged" flips a byte of the snapshot (its sha256 no
    longer matches), "not-a-snapshot" serves other bytes the manifest vouches for (they pass
    the checks and fail Pyodide's restore)."""
    root.mkdir(exist_ok=True)
    for entry in BUILD.iterdir():
        if entry.name != "pyodide":
            (root / entry.name).symlink_to(entry)
    pyodide = root / "pyodide"
    pyodide.mkdir()
    for entry in PYODIDE.iterdir():
        if not entry.name.startswith("webkeras-boot"):
            (pyodide / entry.name).symlink_to(entry)
    if snapshot == "missing":
        return root
    manifest = json.loads(MANIFEST.read_text())
    data = bytearray((PYODIDE / manifest["snapshot"]["file"]).read_bytes())
    if snapshot == "damaged":
        data[len(data) // 2] ^= 0xFF
    elif snapshot == "not-a-snapshot":
        data[:4] = b"\0\0\0\0"  # Pyodide checks the magic number first
        manifest["snapshot"]["sha256"] = hashlib.sha256(data).hexdigest()
    (pyodide / manifest["snapshot"]["file"]).write_bytes(bytes(data))
    (pyodide / MANIFEST.name).write_text(json.dumps(manifest))
    return root


@contextlib.contextmanager
def caching_chromium(playwright, url, profile_dir):
    """Like conftest's local_chromium, with the HTTP cache on: Playwright turns the cache off
    for a context that routes requests, so foreign requests are only recorded (and fail the
    test), not aborted."""
    foreign = []
    context = launch_chromium(playwright, profile_dir)
    context.on("request", lambda request: urlsplit(request.url).netloc != urlsplit(url).netloc
               and request.url.startswith("http") and foreign.append(request.url))
    try:
        yield context
    finally:
        context.close()
    assert not foreign, f"requests left the local server: {sorted(set(foreign))}"


@pytest.fixture(scope="module")
def images():
    return mnist_images()


@pytest.fixture(scope="module")
def normal_boot(playwright, tmp_path_factory, images):
    """Predictions after a normal boot (no boot files on the server)."""
    root = build_variant(tmp_path_factory.mktemp("build-normal"), snapshot="missing")
    with serve_app(create_app(build_dir=root)) as url, \
            local_chromium(playwright, url, tmp_path_factory.mktemp("profile")) as context:
        page = context.new_page()
        page.goto(url + "/")
        result = page.evaluate(BOOT_AND_PREDICT, [MODEL, images])
    assert result["ready"]["snapshot"] is False
    return result


def test_boot_restores_the_snapshot_downloads_nothing_again_and_predicts_the_same(
        playwright, tmp_path, images, normal_boot):
    app = create_app()
    downloads = []  # (path, status) of every /pyodide/ response the server sent

    @app.after_request
    def record(response):
        from flask import request

        if request.path.startswith("/pyodide/"):
            downloads.append((request.path, response.status_code))
        return response

    with serve_app(app) as url, caching_chromium(playwright, url, tmp_path / "profile") as context:
        page = context.new_page()
        page.set_default_timeout(BOOT_TIMEOUT_MS)
        page.goto(url + "/")
        first = page.evaluate(BOOT_AND_PREDICT, [MODEL, images])
        first_visit = list(downloads)
        downloads.clear()
        page.goto(url + "/")
        second = page.evaluate(BOOT_AND_PREDICT, [MODEL, images])

    for boot in (first, second):
        assert boot["ready"]["snapshot"] is True, boot["ready"]
        assert boot["ready"]["stages"]["pyodide"] < boot["ready"]["stages"]["import"]
        # numpy's wheel never changes under the bytecode (webkeras's may be rebuilt since).
        assert "numpy" in boot["ready"]["bytecode"], boot["ready"]
        assert boot["shape"] == normal_boot["shape"] == [len(images) // 784, 10]
        # Same interpreter, same NumPy, same kernels: the very same floats.
        np.testing.assert_array_equal(boot["predictions"], normal_boot["predictions"])
    # The snapshot fixed `random`'s state when it was made: each boot must reseed it.
    assert first["draw"] != second["draw"]
    assert ("/pyodide/webkeras-boot.snapshot", 200) in first_visit
    sent = [entry for entry in downloads if entry[1] == 200]
    assert not sent, f"the second visit downloaded {sent}"


@pytest.mark.parametrize("snapshot, note", [
    ("not-a-snapshot", "the boot snapshot was not used (Snapshot has invalid magic number)"),
    pytest.param("damaged", "webkeras-boot.snapshot is damaged", marks=pytest.mark.slow),
    pytest.param("missing", "no boot snapshot", marks=pytest.mark.slow),
])
def test_a_snapshot_that_does_not_restore_falls_back_to_a_normal_boot(
        playwright, tmp_path, images, normal_boot, snapshot, note):
    root = build_variant(tmp_path / "build", snapshot=snapshot)
    with serve_app(create_app(build_dir=root)) as url, \
            local_chromium(playwright, url, tmp_path / "profile") as context:
        page = context.new_page()
        page.set_default_timeout(BOOT_TIMEOUT_MS)
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(url + "/")
        boot = page.evaluate(BOOT_AND_PREDICT, [MODEL, images])
    assert boot["ready"]["snapshot"] is False
    notes = [text for text in console if text.startswith("webkeras: ") and "booted normally"
             in text]
    assert len(notes) == 1 and note in notes[0], console
    np.testing.assert_array_equal(boot["predictions"], normal_boot["predictions"])
    shutil.rmtree(root)
