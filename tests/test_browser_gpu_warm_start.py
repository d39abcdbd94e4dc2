"""The tab's WebGPU start-up and readback (#17, #18): headless Chromium, the real server, the
/train page's worker, web/gpu_bridge.js on SwiftShader.

- requested pipelines: handles at once, compiled side by side, waited for once before the
  next encode; a broken shader raises there with the compiler's message;
- `read_many`: several buffers in one submit and one readback; a train step's loss and
  metrics come back in one;
- the warm start: a session's kernels are remembered per adapter, and the next visit's worker
  compiles them while Pyodide boots, so its first step compiles nothing.
"""

import json
import textwrap

from webkeras.server.browser import run_python, wait_ready

DRIVER_AND_STEP = textwrap.dedent(
    """
    import json
    import numpy as np
    import webkeras as keras
    from webkeras import backend, layers

    keras.backend.set_backend("webgpu")
    driver = backend.get_backend().driver
    stats = driver.bridge.stats
    out = {"warm": stats.warmPipelines, "hits_at_start": stats.warmHits}

    WGSL = '''
    struct Params { n: u32, scale: f32 }
    @group(0) @binding(0) var<uniform> params: Params;
    @group(0) @binding(1) var<storage, read_write> x: array<f32>;
    @compute @workgroup_size(64)
    fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        if (id.x < params.n) { x[id.x] = x[id.x] * params.scale + OFFSET; }
    }
    '''
    sources = [WGSL.replace("OFFSET", f"{k}.0") for k in range(4)]
    handles = driver.create_pipelines(sources[:2])
    handles += [driver.request_pipeline(s) for s in sources[2:]]
    x = np.arange(70, dtype=np.float32)
    a, b = driver.create_buffer(x.nbytes), driver.create_buffer(12)
    driver.write(a, x)
    driver.write(b, np.array([7, 8, 9], np.int32))
    uniform = driver.create_uniform(np.array([70], np.uint32).tobytes()
                                    + np.float32(2).tobytes())
    for handle in handles:
        driver.dispatch(handle, uniform, [a], (2, 1, 1))
    reads = stats.reads
    got_a, got_b = driver.read_many([(a, x.nbytes), (b, 12)])
    out["read_many_reads"] = stats.reads - reads
    expected = (((x * 2 + 0) * 2 + 1) * 2 + 2) * 2 + 3
    out["read_many_ok"] = bool(
        np.array_equal(np.frombuffer(got_a, np.float32), expected)
        and np.frombuffer(got_b, np.int32).tolist() == [7, 8, 9])
    broken = driver.request_pipeline("fn main( {")
    driver.dispatch(broken, uniform, [a], (1, 1, 1))
    try:
        driver.flush()
        out["broken"] = "no error"
    except Exception as error:
        out["broken"] = str(error)[:200]

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(40, 6)).astype("float32"), rng.integers(0, 3, 40)
    compiled = stats.pipelines
    model.train_on_batch(xs[:8], ys[:8])
    out["first_step_compiles"] = stats.pipelines - compiled
    reads = stats.reads
    logs = model.train_on_batch(xs[8:16], ys[8:16], return_dict=True)
    out["step_reads"] = stats.reads - reads
    out["logs"] = sorted(logs)
    out["hits"] = stats.warmHits
    json.dumps(out)
    """
)


def run_in_fresh_worker(page):
    wait_ready(page)
    return json.loads(run_python(page, DRIVER_AND_STEP))


def test_batched_reads_requested_pipelines_and_the_next_visits_warm_start(open_page):
    page = open_page("/train?backend=webgpu")
    first = run_in_fresh_worker(page)
    assert first["read_many_ok"] and first["read_many_reads"] == 1
    assert "WGSL pipeline creation failed" in first["broken"], first["broken"]
    assert first["warm"] == 0 and first["first_step_compiles"] > 0
    assert first["step_reads"] == 1 and first["logs"] == ["accuracy", "loss"]
    # The same profile again (a returning user): the worker compiled the last session's
    # kernels at boot, so the first step finds them all.
    page.reload()
    second = run_in_fresh_worker(page)
    assert second["warm"] >= first["first_step_compiles"] + 4
    assert second["first_step_compiles"] == 0, second
    assert second["hits"] >= second["warm"] - 1  # all but the broken shader's
    assert second["step_reads"] == 1
