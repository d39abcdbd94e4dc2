"""One readback per train step and batched pipeline compiles on the WebGPU backend (wgpu-py;
lavapipe here): `Driver.read_many` reads several buffers with one submit and one map, a step's
loss and metrics come back through it together, and `create_pipelines` / `request_pipeline`
give handles that dispatch like `create_pipeline`'s. The tab's side (gpu_bridge.js's
readManyInto, requestPipeline) is checked in tests/test_browser_traced_steps.py.
"""

import numpy as np
import pytest

import webkeras as keras
from webkeras import backend, layers

from tests.device_reads import CountedReads

SCALE_WGSL = """
struct Params { n: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x < params.n) { x[id.x] = x[id.x] * params.scale + OFFSET; }
}
"""


@pytest.fixture
def gpu():
    pytest.importorskip("wgpu")
    with backend.backend_scope("webgpu") as gpu:
        yield gpu


def test_read_many_reads_each_buffer_whole_in_one_submit(gpu):
    driver = gpu.driver
    rng = np.random.default_rng(3)
    # Odd sizes: each lands at a 4-byte aligned offset of the shared staging buffer.
    arrays = [rng.normal(size=n).astype("float32") for n in (1, 3, 257, 2)]
    arrays.append(np.arange(5, dtype=np.int32))
    handles = [driver.create_buffer(a.nbytes) for a in arrays]
    for handle, a in zip(handles, arrays):
        driver.write(handle, a)
    submits = driver.submits
    datas = driver.read_many([(h, a.nbytes) for h, a in zip(handles, arrays)] + [(handles[0], 0)])
    assert driver.submits == submits + 1
    for data, a in zip(datas, arrays):
        np.testing.assert_array_equal(np.frombuffer(data, a.dtype), a)
    assert datas[-1] == b""
    for handle in handles:
        driver.destroy_buffer(handle)


def test_requested_and_batched_pipelines_dispatch_like_created_ones(gpu):
    driver = gpu.driver
    sources = [SCALE_WGSL.replace("OFFSET", f"{k}.0") for k in range(3)]
    handles = driver.create_pipelines(sources[:2]) + [driver.request_pipeline(sources[2])]
    assert len(set(handles)) == 3
    x = np.arange(70, dtype=np.float32)
    buffer = driver.create_buffer(x.nbytes)
    driver.write(buffer, x)
    uniform = driver.create_uniform(np.array([70], np.uint32).tobytes()
                                    + np.float32(2).tobytes())
    for handle in handles:
        driver.dispatch(handle, uniform, [buffer], (2, 1, 1))
    expected = ((x * 2 + 0) * 2 + 1) * 2 + 2
    np.testing.assert_array_equal(np.frombuffer(driver.read(buffer, x.nbytes), "float32"),
                                  expected)
    with pytest.raises(Exception, match="(?i)wgsl|shader|parse|error"):
        driver.create_pipelines(["fn main( {"])
    driver.destroy_buffer(buffer)
    driver.destroy_uniform(uniform)


def test_to_numpy_many_matches_to_numpy_per_dtype(gpu):
    values = [np.float32(1.5), np.arange(6, dtype="float32").reshape(2, 3),
              np.array([1, -2, 3], "int32"), np.array([True, False, True])]
    arrays = [gpu.from_numpy(np.asarray(v)) for v in values]
    with CountedReads(gpu.driver) as reads:
        hosts = gpu.to_numpy_many(arrays)
    assert reads.count == 1
    for host, value in zip(hosts, values):
        assert host.dtype == np.asarray(value).dtype
        np.testing.assert_array_equal(host, value)


@pytest.mark.parametrize("jit_compile", [True, False], ids=["traced", "eager"])
def test_a_train_step_reads_its_loss_and_metrics_back_once(gpu, jit_compile):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"],
                  jit_compile=jit_compile)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, 16)
    batch_logs = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: batch_logs.append(logs))
    model.train_on_batch(x[:8], y[:8])  # builds (and, traced, records) the step
    with CountedReads(gpu.driver) as reads:
        logs = model.train_on_batch(x[8:], y[8:], return_dict=True)
    assert reads.count == 1
    assert set(logs) == {"loss", "accuracy", "sparse_top_k_categorical_accuracy"}
    with CountedReads(gpu.driver) as reads:
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[record], shuffle=False)
    # One readback per batch for the callback's floats, one for the epoch's logs.
    assert reads.count == 2 + 1
    assert all(isinstance(v, float) for logs in batch_logs for v in logs.values())
    assert np.isfinite(batch_logs[-1]["loss"]) and 0 <= batch_logs[-1]["accuracy"] <= 1
