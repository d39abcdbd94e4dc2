"""The workbench (/workbench) in headless Chromium: edit, run, stop, restart, charts, files.

Skipped only when build/pyodide (or Chromium) is missing; anything else that goes wrong fails.
Every run seeds its random sources (keras.utils.set_random_seed in the tab, NumPy natively).
"""

import json
import re

import numpy as np
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

import webkeras
from webkeras.server.browser import BOOT_TIMEOUT_MS

RUN_TIMEOUT_MS = 300_000
TOLERANCE = 1e-5


def wait_ready(page):
    """Until the worker has booted; a timeout says what the page showed."""
    try:
        page.wait_for_function("window.workbench && window.workbench.ready",
                               timeout=BOOT_TIMEOUT_MS)
    except PlaywrightTimeoutError as error:
        shown = page.evaluate("() => [document.getElementById('boot-text').textContent,"
                              " document.getElementById('status').textContent,"
                              " window.workbench ? window.workbench.output() : 'no workbench']")
        raise AssertionError(f"the workbench did not boot: {shown}; console: "
                             f"{getattr(page, 'console_messages_seen', [])[-20:]}") from error


def open_workbench(open_page, query="backend=numpy"):
    page = open_page(f"/workbench?{query}")
    wait_ready(page)
    return page


def set_code(page, code):
    page.evaluate("(code) => window.workbench.editor.setCode(code)", code)


def wait_idle(page, timeout=RUN_TIMEOUT_MS):
    page.wait_for_function("!window.workbench.running", timeout=timeout)
    return page.get_attribute("#status", "data-state")


def run_editor(page, timeout=RUN_TIMEOUT_MS):
    """Presses Run; returns (status state, the output of this run)."""
    before = len(page.evaluate("window.workbench.output()"))
    page.click("#run")
    state = wait_idle(page, timeout)
    page.wait_for_timeout(100)  # the terminal draws on the next animation frame
    return state, page.evaluate("window.workbench.output()")[before:]


def run_code(page, code, timeout=RUN_TIMEOUT_MS):
    set_code(page, code)
    return run_editor(page, timeout)


def output_json(output, key):
    """The JSON printed on the line `key: {...}`."""
    match = re.search(rf"^{key}: (.*)$", output, re.M)
    assert match, output
    return json.loads(match.group(1))


def test_pages_are_cross_origin_isolated():
    # The workbench shares a SharedArrayBuffer with its worker (Stop interrupts plain loops):
    # the page, the worker's script and what it loads need COOP + COEP.
    from conftest import create_app

    client = create_app().test_client()
    index = client.get("/")
    assert index.get_data(as_text=True).index('href="/workbench"') < \
        index.get_data(as_text=True).index('href="/train"')
    for path in ("/workbench", "/train", "/predict", "/static/worker.js", "/static/client.js",
                 "/vendor/codemirror.js", "/static/workbench_runtime.py",
                 "/static/examples/mnist_mlp.py", "/api/runtime", "/no-such-page"):
        response = client.get(path)
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp", path


def test_type_run_output_errors_and_reload(open_page, chromium_context, server_url):
    page = open_workbench(open_page)
    assert page.evaluate("crossOriginIsolated"), "COOP/COEP headers missing"
    # Typed as a user types it, run with Ctrl-Enter.
    set_code(page, "")
    page.click(".cm-content")
    page.keyboard.type("print('hello from', 6 * 7)\n")
    page.keyboard.press("Control+Enter")
    assert wait_idle(page) == "done"
    page.wait_for_timeout(100)
    assert "hello from 42" in page.evaluate("window.workbench.output()")

    # keras, tensorflow.keras and tf.keras are webkeras; the last expression is shown.
    state, out = run_code(page, (
        "import keras\nfrom tensorflow import keras as k2\nimport tensorflow as tf\n"
        "from keras.layers import Dense\n"
        "print('aliases', keras is k2 is tf.keras, keras.__name__, Dense.__module__)\n"
        "keras.backend.backend()"))
    assert state == "done", out
    assert "aliases True webkeras webkeras.layers" in out and "'numpy'" in out, out
    assert page.text_content("#backend").startswith("numpy · ")

    # Carriage returns redraw one line, as a terminal does.
    state, out = run_code(page, "for i in range(2000):\n    print(f'\\rstep {i}', end='')\n"
                                "print()\nprint('end')")
    lines = out.splitlines()
    assert state == "done" and "step 1999" in lines and "end" in lines, out
    assert sum("step" in line for line in lines) == 1, out

    # A Python error: a traceback from the user's code on, its line highlighted.
    code = "x = 1\n\ndef f():\n    return x / 0\n\nf()\n"
    state, out = run_code(page, code)
    assert state == "error"
    assert "ZeroDivisionError" in out and 'File "<editor>", line 4, in f' in out, out
    assert "workbench_runtime" not in out, out
    assert page.text_content(".cm-error-line") == "    return x / 0"
    assert "line 4" in page.text_content("#status")

    # The code survives a reload (localStorage) and travels in a share link.
    page.wait_for_timeout(500)  # the debounced save
    page.reload()
    page.wait_for_function("window.workbench && window.workbench.editor", timeout=BOOT_TIMEOUT_MS)
    assert page.evaluate("window.workbench.editor.getCode()") == code
    set_code(page, "print('shared ünïcode')  # " + "x" * 300)
    page.click("#share")
    page.wait_for_function("document.getElementById('share').dataset.url")
    link = page.get_attribute("#share", "data-url")
    assert link.startswith(server_url + "/workbench") and "#code=" in link
    other = chromium_context.new_page()
    other.goto(link)
    other.wait_for_function("window.workbench && window.workbench.editor")
    assert other.evaluate("window.workbench.editor.getCode()").startswith("print('shared ünïcode')")
    other.close()
    assert not [m for m in page.console_messages_seen if m.startswith("pageerror")]


def test_mnist_example_charts_and_progress(open_page, results_dir):
    # The Examples menu's MNIST MLP as shipped (SMALL: 6,000 images, 2 epochs), on WebGPU.
    page = open_workbench(open_page, "backend=webgpu&example=mnist_mlp")
    code = page.evaluate("window.workbench.editor.getCode()")
    assert "SMALL = True" in code and "import keras" in code
    page.click("#run")
    page.wait_for_function("Number(document.getElementById('fit-progress').dataset.done) >= 20",
                           timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(400)  # the throttled chart redraw
    page.screenshot(path=str(results_dir / "workbench_training.png"))
    assert "ETA" in page.text_content("#fit-eta")
    state = wait_idle(page)
    page.wait_for_timeout(400)
    page.screenshot(path=str(results_dir / "workbench_mnist_done.png"))
    out = page.evaluate("window.workbench.output()")
    assert state == "done", out
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy > 0.85, out
    # One progress line per epoch (redrawn in place), not one per batch.
    assert sum("43/43" in line for line in out.splitlines()) == 2, out
    assert len([line for line in out.splitlines() if "/43" in line]) == 2, out
    counts = page.evaluate("window.workbench.chartCounts()")
    assert set(counts) == {"loss", "accuracy"}, counts
    assert counts["loss"][0] == 86 and counts["loss"][1] == 2, counts  # batches, val epochs
    assert page.text_content("#backend").startswith("webgpu · ")
    assert page.locator("#files tr[data-path='mnist_mlp.keras']").count() == 1


def test_stop_interrupt_restart(open_page):
    page = open_workbench(open_page)
    # Stop in a fit: it ends at the next batch, and the code after it still runs.
    set_code(page, (
        "import keras, numpy as np\nkeras.utils.set_random_seed(0)\n"
        "x = np.random.rand(4096, 32).astype('float32'); y = x.sum(1)\n"
        "model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64), "
        "keras.layers.Dense(1)])\nmodel.compile('adam', 'mse')\n"
        "h = model.fit(x, y, epochs=500, batch_size=32, verbose=0)\n"
        "print('after fit', len(h.epoch))\n"))
    page.click("#run")
    page.wait_for_function("Number(document.getElementById('fit-progress').dataset.done) >= 5",
                           timeout=RUN_TIMEOUT_MS)
    page.click("#stop")
    assert wait_idle(page, 60_000) == "done"
    page.wait_for_timeout(100)
    out = page.evaluate("window.workbench.output()")
    epochs = int(re.search(r"after fit (\d+)", out).group(1))
    assert 1 <= epochs < 500, out
    assert page.get_attribute("#fit-panel", "data-state") == "stopped"

    # Stop in a plain Python loop: KeyboardInterrupt through the interrupt buffer.
    set_code(page, "n = 0\nwhile True:\n    n += 1\n")
    page.click("#run")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.workbench.running")
    page.click("#stop")
    assert wait_idle(page, 30_000) == "interrupted"
    page.wait_for_timeout(100)
    assert "KeyboardInterrupt" in page.evaluate("window.workbench.output()")

    # Variables live on between runs, and the interpreter still works after an interrupt ...
    state, out = run_code(page, "n > 0, model.count_params()")
    assert state == "done" and "(True, 2177)" in out, out
    # ... until Restart: a fresh interpreter.
    page.click("#restart")
    wait_ready(page)
    state, out = run_code(page, "import keras\nprint(keras.__name__)\nn")
    assert state == "error" and "NameError" in out and "webkeras" in out, out


def test_upload_predict_save_download(open_page, tmp_path):
    np.random.seed(0)
    webkeras.utils.set_random_seed(0)
    webkeras.backend.set_backend("numpy")
    x = np.random.rand(5, 8).astype("float32")
    native = webkeras.Sequential([webkeras.Input((8,)), webkeras.layers.Dense(16, "relu"),
                                  webkeras.layers.Dense(3, "softmax")])
    native.save(tmp_path / "uploaded.keras")
    np.save(tmp_path / "x.npy", x)
    expected = native.predict(x, verbose=0)

    page = open_workbench(open_page)
    # Upload -> load_model -> predict, in the tab.
    page.set_input_files("#upload", [str(tmp_path / "uploaded.keras"), str(tmp_path / "x.npy")])
    page.wait_for_function("document.getElementById('files').dataset.count === '2'")
    state, out = run_code(page, (
        "import json, keras, numpy as np\n"
        "m = keras.saving.load_model('uploaded.keras')\nx = np.load('x.npy')\n"
        "print('pred:', json.dumps(m.predict(x, verbose=0).tolist()))\n"))
    assert state == "done", out
    np.testing.assert_allclose(output_json(out, "pred"), expected, atol=TOLERANCE)

    # Train + save in the tab -> Download -> loads natively and predicts the same.
    state, out = run_code(page, (
        "keras.utils.set_random_seed(1)\n"
        "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation='tanh'),"
        " keras.layers.Dense(2)])\nmodel.compile('adam', 'mse')\n"
        "model.fit(np.random.rand(64, 8), np.random.rand(64, 2), epochs=2, verbose=0)\n"
        "model.save('trained.keras')\n"
        "print('pred:', json.dumps(model.predict(x, verbose=0).tolist()))\n"))
    assert state == "done", out
    in_tab = output_json(out, "pred")
    row = page.locator("#files tr[data-path='trained.keras']")
    with page.expect_download() as download:
        row.locator("button", has_text="Download").click()
    assert download.value.suggested_filename == "trained.keras"
    saved = tmp_path / "downloaded.keras"
    download.value.save_as(saved)
    reloaded = webkeras.saving.load_model(saved)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), in_tab, atol=TOLERANCE)


def test_every_example_runs_as_shipped(open_page, results_dir):
    # Each example of the menu, as shipped (SMALL = True), one after the other in one tab.
    page = open_workbench(open_page)
    names = page.evaluate("[...document.querySelectorAll('#examples option')]"
                          ".map((o) => o.value).filter(Boolean)")
    assert len(names) == 9, names
    for name in names:
        page.select_option("#examples", name)
        page.wait_for_function("(n) => document.getElementById('status').textContent"
                               ".includes(n)", arg=name)
        state, out = run_editor(page)
        assert state == "done", f"{name}:\n{out[-3000:]}"
        assert "Traceback" not in out, f"{name}:\n{out[-3000:]}"
        page.screenshot(path=str(results_dir / f"workbench_example_{name}.png"))

