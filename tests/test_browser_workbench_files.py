"""The workbench (/workbench) in headless Chromium, part two: files in and out (uploads checked,
models exported as .keras / .h5 / TF.js zip, the working directory kept across a reload and
Restart), what evaluate and plot_model show, running out of memory, and input latency while
a model trains. Part one is tests/test_browser_workbench.py (its helpers are shared).
"""

import json
import zipfile

import numpy as np
import pytest
from test_browser_workbench import (
    TOLERANCE,
    open_workbench,
    output_json,
    run_code,
    wait_idle,
    wait_ready,
)

import webkeras
from webkeras.saving import tfjs
from webkeras.server.browser import BOOT_TIMEOUT_MS

# p95 of the page's reaction to a key press / a Stop click while a model trains (issue #13).
LATENCY_BUDGET_MS = 100


def native_model(seed):
    webkeras.backend.set_backend("numpy")
    webkeras.utils.set_random_seed(seed)
    return webkeras.Sequential([webkeras.Input((8,)), webkeras.layers.Dense(16, "relu"),
                                webkeras.layers.Dense(3, "softmax")], name=f"native_{seed}")


def tfjs_zip(model, path, folder):
    tfjs.save_tfjs(model, folder)
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"web_model/{file.name}")


def files_listed(page):
    return page.evaluate("[...document.querySelectorAll('#files tr')].map((r) => r.dataset.path)")


def download(page, selector, tmp_path, name):
    with page.expect_download() as info:
        page.click(selector)
    path = tmp_path / name
    info.value.save_as(path)
    return info.value.suggested_filename, path


def test_uploads_exports_and_the_kept_working_directory(open_page, tmp_path):
    np.random.seed(0)
    x = np.random.rand(5, 8).astype("float32")
    uploaded = native_model(0)
    uploaded.save(tmp_path / "uploaded.keras")
    tfjs_zip(native_model(1), tmp_path / "web_model.zip", tmp_path / "tfjs_out")
    expected_tfjs = native_model(1).predict(x, verbose=0)
    (tmp_path / "broken.keras").write_bytes((tmp_path / "uploaded.keras").read_bytes()[:300])
    np.savez(tmp_path / "data.npz", x=x)
    (tmp_path / "table.csv").write_text("a,b\n1,2\n3,4\n")

    page = open_workbench(open_page)
    page.set_input_files("#upload", [str(tmp_path / name) for name in (
        "uploaded.keras", "web_model.zip", "broken.keras", "data.npz", "table.csv")])
    page.wait_for_function("document.getElementById('files').dataset.persisted >= 7",
                           timeout=60_000)
    out = page.evaluate("window.workbench.output()")
    assert "uploaded.keras: Sequential 'native_0', 2 layers, 195 parameters" in out, out
    assert "web_model.zip: a TF.js model, unpacked into web_model/" in out, out
    assert "data.npz: arrays x (5, 8) float32" in out and "table.csv: 2 rows" in out, out
    # A corrupt model: a readable error in the output, in red; the page goes on.
    broken = page.locator(".t-stderr", has_text="broken.keras could not be read")
    assert broken.count() >= 1, out
    assert "Traceback" not in broken.first.text_content()
    assert {"web_model/web_model/model.json", "uploaded.keras"} <= set(files_listed(page))

    state, out = run_code(page, (
        "import json, keras, numpy as np\nfrom webkeras.saving import tfjs\n"
        f"x = np.array({x.tolist()}, dtype='float32')\n"
        "from_tfjs = tfjs.load_tfjs('web_model/web_model/model.json')\n"
        "print('tfjs:', json.dumps(from_tfjs.predict(x, verbose=0).tolist()))\n"
        "keras.utils.set_random_seed(2)\n"
        "trained = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation='tanh'),"
        " keras.layers.Dense(2)], name='trained')\ntrained.compile('adam', 'mse')\n"
        "trained.fit(np.random.rand(64, 8), np.random.rand(64, 2), epochs=2, verbose=0,\n"
        "            callbacks=[keras.callbacks.CSVLogger('log.csv')])\n"
        "print('pred:', json.dumps(trained.predict(x, verbose=0).tolist()))\n"))
    assert state == "done", out
    np.testing.assert_allclose(output_json(out, "tfjs"), expected_tfjs, atol=TOLERANCE)
    in_tab = np.array(output_json(out, "pred"))
    assert page.locator("#models tr[data-model='trained']").count() == 1
    assert page.locator("#models tr[data-model='from_tfjs']").count() == 1
    assert "log.csv" in files_listed(page)

    # The trained model as .keras, .h5 and a TF.js zip: each loads natively, predicts the same.
    row = "#models tr[data-model='trained'] button"
    name, path = download(page, f"{row}:has-text('.keras')", tmp_path, "dl.keras")
    assert name == "trained.keras"
    np.testing.assert_allclose(webkeras.saving.load_model(path).predict(x, verbose=0), in_tab,
                               atol=TOLERANCE)
    name, path = download(page, f"{row}:has-text('.h5')", tmp_path, "dl.h5")
    assert name == "trained.h5"
    np.testing.assert_allclose(webkeras.saving.load_model(path).predict(x, verbose=0), in_tab,
                               atol=TOLERANCE)
    name, path = download(page, f"{row}:has-text('TF.js zip')", tmp_path, "dl.zip")
    assert name == "trained_tfjs.zip"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "dl_tfjs")
        assert "model.json" in archive.namelist()
    np.testing.assert_allclose(tfjs.load_tfjs(tmp_path / "dl_tfjs").predict(x, verbose=0),
                               in_tab, atol=TOLERANCE)

    # A reload keeps the code and the working directory (IndexedDB) ...
    page.wait_for_function("document.getElementById('files').dataset.persisted >= 11")
    code = page.evaluate("window.workbench.editor.getCode()")
    page.reload()
    wait_ready(page)
    assert page.evaluate("window.workbench.editor.getCode()") == code
    assert {"trained.keras", "trained.h5", "trained_tfjs.zip", "log.csv",
            "uploaded.keras"} <= set(files_listed(page))
    state, out = run_code(page, (
        "import json, keras, numpy as np\nm = keras.saving.load_model('trained.keras')\n"
        f"x = np.array({x.tolist()}, dtype='float32')\n"
        "print('pred:', json.dumps(m.predict(x, verbose=0).tolist()))\n"
        "print('log:', json.dumps(open('log.csv').read().splitlines()[0]))"))
    assert state == "done", out
    np.testing.assert_allclose(output_json(out, "pred"), in_tab, atol=TOLERANCE)
    assert output_json(out, "log") == "epoch,loss,val_loss"  # Keras 3 adds val_ columns
    # ... and so does Restart; a deleted file stays deleted.
    page.click("#files tr[data-path='table.csv'] button:has-text('×')")
    page.wait_for_function("!document.querySelector(\"#files tr[data-path='table.csv']\")")
    page.click("#restart")
    wait_ready(page)
    listed = files_listed(page)
    assert "trained.keras" in listed and "table.csv" not in listed, listed
    assert not [m for m in page.console_messages_seen if m.startswith("pageerror")]


def test_evaluate_and_plot_model_figures(open_page, results_dir):
    # A small CNN on real MNIST: evaluate shows a confusion matrix and sample predictions,
    # plot_model a graph (drawn by Graphviz in wasm) and a PNG file, with no extra code.
    page = open_workbench(open_page)
    state, out = run_code(page, (
        "import json, keras, numpy as np\nkeras.utils.set_random_seed(0)\n"
        "(x, y), (xt, yt) = keras.datasets.mnist.load_data()\n"
        "x, y = x[:2000, ..., None] / 255.0, y[:2000]\n"
        "xt, yt = xt[:300, ..., None] / 255.0, yt[:300]\n"
        "model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, "
        "activation='relu'), keras.layers.MaxPooling2D(), keras.layers.Flatten(),\n"
        "    keras.layers.Dense(10, activation='softmax')], name='small_cnn')\n"
        "model.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(x, y, epochs=1, batch_size=64, verbose=0)\n"
        "loss, accuracy = model.evaluate(xt, yt, verbose=0)\n"
        "predicted = model.predict(xt, verbose=0).argmax(-1)\n"
        "print('expected:', json.dumps({'accuracy': accuracy, 'first': predicted[:16].tolist(),"
        " 'true': yt[:16].tolist(), 'diagonal': [int(((yt == c) & (predicted == c)).sum())"
        " for c in range(10)]}))\n"
        "keras.utils.plot_model(model, to_file='small_cnn.png', show_shapes=True)\n"
        "keras.utils.plot_model(model, to_file='small_cnn.dot')\n"), timeout=600_000)
    assert state == "done", out
    expected = output_json(out, "expected")
    page.wait_for_function("window.workbench.figureCounts().graphs === 2", timeout=60_000)
    page.wait_for_function("document.querySelector(\"#files tr[data-path='small_cnn.png']\")",
                           timeout=30_000)
    counts = page.evaluate("window.workbench.figureCounts()")
    assert counts == {"graphs": 2, "evaluations": 1, "samples": 16}, counts
    title = page.text_content(".figure.evaluation summary")
    assert f"accuracy {100 * expected['accuracy']:.2f}%" in title and "300 samples" in title
    matrix = page.evaluate("[...document.querySelectorAll('table.confusion tbody tr')]"
                           ".map((r) => [...r.cells].slice(1).map((c) => Number(c.textContent)))")
    assert np.array(matrix).sum() == 300 and np.diag(matrix).tolist() == expected["diagonal"]
    captions = page.evaluate("[...document.querySelectorAll('.samples figcaption')]"
                             ".map((c) => c.textContent)")
    assert captions == [f"pred {p} · true {t}" for p, t in zip(expected["first"],
                                                               expected["true"])]
    graph_text = page.text_content(".figure.graph svg")
    assert "Conv2D" in graph_text and "(None, 26, 26, 8)" in graph_text, graph_text
    head = page.evaluate("window.workbench.runPython(\"open('/home/pyodide/small_cnn.png', "
                         "'rb').read(8).hex() + ' ' + open('/home/pyodide/small_cnn.dot')"
                         ".read(11)\")")
    assert head == "89504e470d0a1a0a digraph \"G\"", head
    page.locator(".figure.evaluation").scroll_into_view_if_needed()
    page.screenshot(path=str(results_dir / "workbench_evaluate_figures.png"), full_page=True)


def test_out_of_memory_then_restart(open_page):
    page = open_workbench(open_page)
    state, out = run_code(page, "open('keep.txt', 'w').write('kept')\n")
    assert state == "done", out
    page.wait_for_function("document.getElementById('files').dataset.persisted >= 1")
    # Memory taken piece by piece until none is left: NumPy's MemoryError, with what to do.
    state, out = run_code(page, "import numpy as np\nchunks = []\nwhile True:\n"
                                "    chunks.append(np.ones(32 << 20, 'float32'))\n")
    assert state == "oom", out
    assert "MemoryError" in out and "Out of memory: the tab's Python" in out, out
    assert "Out of memory" in page.text_content("#status")
    # The page goes on; Restart gives back all the memory and keeps the files.
    state, out = run_code(page, "print(len(chunks) > 4)")
    assert state == "done" and "True" in out, out
    page.click("#restart")
    wait_ready(page)
    state, out = run_code(page, "import numpy as np\nprint('sum', int(np.ones(1000).sum()), "
                                "open('keep.txt').read())")
    assert state == "done" and "sum 1000 kept" in out, out


def percentile(values, q):
    return float(np.percentile(np.array(values), q))


def test_typing_and_stop_respond_while_training(open_page):
    # While a model trains in the worker, the page must react to typing and to Stop within
    # LATENCY_BUDGET_MS (p95). A key press is timed from keydown to the frame after the
    # editor's DOM update, Stop from the click to the frame after the status changed.
    page = open_workbench(open_page)
    page.evaluate("window.workbench.editor.setCode(" + json.dumps(
        "import keras, numpy as np\nkeras.utils.set_random_seed(0)\n"
        "x = np.random.rand(8192, 64).astype('float32'); y = x.sum(1)\n"
        "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, "
        "activation='relu'), keras.layers.Dense(1)])\nmodel.compile('adam', 'mse')\n"
        "model.fit(x, y, epochs=200, batch_size=32, verbose=1)\n# ") + ")")
    page.click("#run")
    page.wait_for_function("Number(document.getElementById('fit-progress').dataset.done) >= 10",
                           timeout=120_000)
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.evaluate("""() => {
      window.keyLatencies = [];
      const content = document.querySelector('.cm-content');
      document.addEventListener('keydown', () => {
        const start = performance.now();
        const seen = new MutationObserver(() => {
          seen.disconnect();
          requestAnimationFrame(() => window.keyLatencies.push(performance.now() - start));
        });
        seen.observe(content, {childList: true, subtree: true, characterData: true});
      }, {capture: true});
    }""")
    for _ in range(40):
        page.keyboard.type("x")
        page.wait_for_timeout(40)
    page.wait_for_timeout(200)
    keys = page.evaluate("window.keyLatencies")
    assert len(keys) == 40, keys
    assert page.evaluate("window.workbench.editor.getCode()").endswith("# " + "x" * 40)
    assert page.evaluate("window.workbench.running")
    stop_ms = page.evaluate("""() => new Promise((resolve) => {
      const status = document.getElementById('status');
      const start = performance.now();
      new MutationObserver((_, observer) => {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - start));
      }).observe(status, {attributes: true, childList: true, subtree: true});
      document.getElementById('stop').click();
    })""")
    assert wait_idle(page, 60_000) == "done"
    p95 = percentile(keys, 95)
    print(f"\ninput latency while training: keys p50 {percentile(keys, 50):.1f} ms, "
          f"p95 {p95:.1f} ms, max {max(keys):.1f} ms; Stop {stop_ms:.1f} ms")
    assert p95 < LATENCY_BUDGET_MS, keys
    assert stop_ms < LATENCY_BUDGET_MS
    assert page.get_attribute("#fit-panel", "data-state") == "stopped"


@pytest.mark.slow
def test_uploaded_corrupt_model_keeps_the_page_working(open_page, tmp_path):
    # Every kind of corrupt upload: the output says why; later runs work.
    page = open_workbench(open_page)
    files = {"empty.keras": b"", "text.h5": b"not an hdf5 file at all",
             "bad.zip": b"PK\x03\x04 truncated zip", "bad.npz": b"PK\x03\x04 not a zip"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    page.set_input_files("#upload", [str(tmp_path / name) for name in files])
    page.wait_for_function("document.getElementById('files').dataset.count === '4'",
                           timeout=BOOT_TIMEOUT_MS)
    page.wait_for_timeout(300)
    errors = page.evaluate("[...document.querySelectorAll('.t-stderr')].map((e) => e.textContent)")
    for name in files:
        assert any(e.startswith(f"{name} could not be read: ") for e in errors), (name, errors)
    state, out = run_code(page, "print(6 * 7)")
    assert state == "done" and "42" in out, out
