"""The tab without a GPU (#19). A WebGPU device lost mid-training: the workbench says so and
restarts on the NumPy backend, keeping the code, and the same training then runs there. A
browser without a WebGPU adapter: the page says why it runs on the CPU, and runs.

The loss is real: the training code destroys the worker's GPUDevice from a callback (the one
way a page can lose its device on purpose), so the browser resolves `device.lost` exactly as it
does for a driver reset."""

from conftest import local_chromium
from test_browser_workbench import RUN_TIMEOUT_MS, open_workbench, run_editor, set_code, wait_ready

TRAIN = """\
import js, keras, numpy as np
keras.utils.set_random_seed(0)
x = np.random.rand(512, 8).astype("float32"); y = x.sum(1)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")

class LoseTheDevice(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 3 and keras.backend.backend() == "webgpu":
            js.webkerasGPU.device.destroy()

history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[LoseTheDevice()])
print("trained on", keras.backend.backend(), "final loss", round(history.history["loss"][-1], 4))
"""


def test_a_lost_device_restarts_the_workbench_on_numpy(open_page):
    page = open_workbench(open_page, "backend=webgpu")
    assert page.text_content("#backend").startswith("webgpu")
    set_code(page, TRAIN)
    page.click("#run")
    page.wait_for_function(
        "window.workbench.output().includes('The WebGPU device was lost')",
        timeout=RUN_TIMEOUT_MS)
    wait_ready(page)  # the restart on NumPy
    assert page.input_value("#backend-select") == "numpy"
    assert "backend=numpy" in page.url
    assert page.text_content("#backend").startswith("numpy")
    output = page.evaluate("window.workbench.output()")
    assert "Restarting on the CPU (NumPy backend)" in output, output
    # The code is still in the editor and now trains to the end on NumPy.
    assert page.evaluate("window.workbench.editor.getCode()") == TRAIN
    state, output = run_editor(page)
    assert state == "done", output
    assert "trained on numpy final loss" in output, output


def test_without_webgpu_the_workbench_says_so_and_runs_on_numpy(
        playwright, server_url, tmp_path, monkeypatch, requires_runtime):
    # These flags leave Chromium's WebGPU without an adapter (see server/browser.py).
    monkeypatch.setenv("WEBKERAS_CHROMIUM_ARGS", "--disable-gpu --disable-software-rasterizer")
    with local_chromium(playwright, server_url, tmp_path / "profile") as context:
        page = context.new_page()
        page.goto(f"{server_url}/workbench?backend=auto")
        wait_ready(page)
        output = page.evaluate("window.workbench.output()")
        assert "No WebGPU here, so Python runs on the CPU" in output, output
        assert "no WebGPU adapter" in output, output
        assert page.text_content("#backend").startswith("numpy")
        set_code(page, "import keras\nprint('backend', keras.backend.backend())")
        state, output = run_editor(page)
        assert state == "done" and "backend numpy" in output, output
