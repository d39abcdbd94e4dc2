"""The training page in headless Chromium: Pyodide in a worker, WebGPU through gpu_bridge.js.

Skipped only when build/pyodide (or Chromium) is missing; anything else that goes wrong fails.
"""

import re
import textwrap

import pytest

from webkeras.server.browser import BOOT_TIMEOUT_MS, run_python, wait_ready

# Generous: a step takes ~0.2 s on SwiftShader now, but was 2 s a few commits ago.
TRAIN_TIMEOUT_MS = 600_000

# A hand-written kernel through BrowserDriver alone: out = a * scale + b.
DRIVER_SMOKE = textwrap.dedent(
    """
    import numpy as np
    from webkeras.backend.webgpu.browser_driver import BrowserDriver

    WGSL = '''
    struct Params { n: u32, scale: f32 }
    @group(0) @binding(0) var<uniform> params: Params;
    @group(0) @binding(1) var<storage, read> a: array<f32>;
    @group(0) @binding(2) var<storage, read> b: array<f32>;
    @group(0) @binding(3) var<storage, read_write> out: array<f32>;
    @compute @workgroup_size(64)
    fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < params.n) { out[id.x] = a[id.x] * params.scale + b[id.x]; }
    }
    '''
    driver = BrowserDriver()
    n = 1000
    a = np.arange(n, dtype=np.float32)
    b = np.full(n, 0.5, dtype=np.float32)
    ha, hb, hout, hcopy = (driver.create_buffer(4 * n) for _ in range(4))
    driver.write(ha, a)
    driver.write(hb, b)
    uniform = driver.create_uniform(np.array([n], np.uint32).tobytes() + np.float32(3).tobytes())
    pipeline = driver.create_pipeline(WGSL)
    for _ in range(3):  # the second and third dispatch reuse the cached bind group
        driver.dispatch(pipeline, uniform, [ha, hb, hout], ((n + 63) // 64, 1, 1))
    driver.copy(hout, hcopy, 4 * n)
    result = np.frombuffer(driver.read(hcopy, 4 * n), dtype=np.float32)
    np.testing.assert_allclose(result, a * 3 + b)
    # A 3-byte read and a write that is not a multiple of 4 bytes.
    driver.write(ha, np.array([1, 2, 3], np.uint8))
    assert bytes(driver.read(ha, 3)) == bytes([1, 2, 3])
    # A broken shader raises with the compiler's message.
    try:
        driver.create_pipeline("fn main( {")
        raise AssertionError("expected a WGSL error")
    except Exception as error:
        assert "WGSL" in str(error), error
    for handle in (ha, hb, hout, hcopy):
        driver.destroy_buffer(handle)
    driver.destroy_uniform(uniform)
    stats = driver.bridge.stats.to_py()
    f"ok {driver.adapter_info} {stats['dispatches']} {stats['bindGroupsCreated']}"
    """
)


def canvas_ink(page):
    """Number of non-transparent pixels on the chart canvas."""
    return page.evaluate(
        """() => {
            const c = document.getElementById('chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n;
        }"""
    )


def batches_done(page):
    return int(page.get_attribute("#progress", "data-done") or 0)


def test_driver_smoke(open_page, chromium_context):
    page = open_page("/train?backend=webgpu")
    wait_ready(page)
    # The worker's own requests are seen by the foreign-request guard too.
    assert any(url.endswith("/pyodide/pyodide.asm.wasm") for url in chromium_context.seen_requests)
    result = run_python(page, DRIVER_SMOKE)
    assert result.startswith("ok "), result
    adapter, dispatches, bind_groups = result.split(" ", 1)[1].rsplit(" ", 2)
    assert adapter, result
    assert int(dispatches) == 3 and int(bind_groups) == 1


def test_train_mnist(open_page, results_dir):
    # One epoch on a 20k subset (313 steps of 64); the test set is always the real 10k.
    page = open_page("/train?samples=20000&epochs=1&batch_size=64")
    page.click("#train", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_function(
        "Number(document.getElementById('progress').dataset.done || 0) >= 10",
        timeout=TRAIN_TIMEOUT_MS,
    )
    # The page stays responsive while the worker trains: a frame is drawn promptly.
    frame_ms = page.evaluate(
        "() => new Promise((ok) => { const t = performance.now();"
        " requestAnimationFrame(() => ok(performance.now() - t)); })"
    )
    assert frame_ms < 500, frame_ms
    page.wait_for_function(
        "document.getElementById('test-accuracy').textContent.includes('Test accuracy')"
        " || !document.getElementById('error').hidden",
        timeout=TRAIN_TIMEOUT_MS,
    )
    error = page.locator("#error")
    assert error.is_hidden(), error.text_content()
    text = page.text_content("#test-accuracy")
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", text).group(1))
    assert accuracy >= 0.90, text
    assert page.get_attribute("#backend", "data-backend") == "webgpu"
    assert page.text_content("#backend").startswith("webgpu · ")
    assert batches_done(page) == 313
    page.wait_for_timeout(400)  # the throttled chart redraw
    assert canvas_ink(page) > 1000
    page.screenshot(path=str(results_dir / "train.png"), full_page=True)
    print("step time:", page.text_content("#step-time"), "|", page.text_content("#status"))


# NumPy never awaits on its own: stopping it relies on the callback yielding to the worker.
@pytest.mark.parametrize("backend", ["webgpu", "numpy"])
def test_stop_button(open_page, backend):
    page = open_page(f"/train?samples=60000&epochs=3&backend={backend}")
    page.click("#train", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_function(
        "Number(document.getElementById('progress').dataset.done || 0) >= 3",
        timeout=TRAIN_TIMEOUT_MS,
    )
    page.click("#stop")
    page.wait_for_function(
        "document.getElementById('status').dataset.state === 'stopped'"
        " || !document.getElementById('error').hidden",
        timeout=60_000,
    )
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    stopped_at = batches_done(page)
    assert stopped_at < 3 * 469
    page.wait_for_timeout(1000)
    assert batches_done(page) == stopped_at
    assert page.text_content("#test-accuracy") == ""
    assert page.is_enabled("#train") and not page.is_enabled("#stop")


def test_python_error_is_shown(open_page):
    page = open_page("/train?backend=no-such-backend")
    page.click("#train", timeout=BOOT_TIMEOUT_MS)
    page.wait_for_selector("#error:not([hidden])", timeout=60_000)
    message = page.text_content("#error")
    assert "Traceback" in message and "no-such-backend" in message, message
    # The page stays usable.
    assert page.is_enabled("#train")
