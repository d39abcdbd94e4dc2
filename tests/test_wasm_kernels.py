"""The NumPy backend's WASM SIMD kernels (kernels/wasm/, issue #18) in the tab's Pyodide worker.

Parity of every kernel with the NumPy path over many shapes (tests/pages/wasm_kernels_parity.py),
train steps with and without the kernels, and the sha256 check on load. Natively: the kernels stay
off and the wheel carries the module with its hash. The browser tests share one page (one boot).
"""

import hashlib
import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from webkeras.backend.numpy import NumpyBackend, wasm_kernels
from webkeras.server.browser import run_python, wait_ready

from conftest import REPO_ROOT, local_chromium

MAX_REL_ERR = 1e-5
PARITY = REPO_ROOT / "tests" / "pages" / "wasm_kernels_parity.py"
WHEEL = REPO_ROOT / "build" / "pyodide" / "webkeras-0.1.0-py3-none-any.whl"
BUILT = REPO_ROOT / "build" / "wasm"
KERNELS = ["sgemm", "sgemm strided", "sgemm accumulate", "matmul", "conv", "conv direct",
           "conv_input_grad", "conv_kernel_grad", "grouped conv", "depthwise conv",
           "conv bias relu",
           "depthwise conv_input_grad", "depthwise conv_kernel_grad", "relu", "add_bias", "pool",
           "pool_grad", "adam_update", "sgd_update", "relu_grad", "sum_leading", "refused"]

# A few train steps of an MLP and a small CNN (conv, pooling, dense), first with NumPy alone,
# then with the kernels, from the same weights and data: the losses must agree.
TRAIN_BOTH_WAYS = textwrap.dedent(
    """
    import json
    import numpy as np
    import webkeras as keras
    from webkeras import layers
    from webkeras.backend.numpy import wasm_kernels

    def losses(enabled, build, x, y, optimizer):
        wasm_kernels.set_enabled(enabled)
        keras.backend.set_backend("numpy")
        keras.utils.set_random_seed(1)
        model = build()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        used = keras.backend.get_backend().simd is not None
        return used, [float(model.train_on_batch(x, y)) for _ in range(4)]

    rng = np.random.default_rng(0)
    mlp = lambda: keras.Sequential([keras.Input((784,)), layers.Dense(128, activation="relu"),
                                    layers.Dense(10, activation="softmax")])
    cnn = lambda: keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(8, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu"),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.AveragePooling2D(2),
        layers.Flatten(), layers.Dense(10, activation="softmax")])
    out = {}
    for name, build, shape, optimizer in [("mlp", mlp, (128, 784), "adam"),
                                          ("cnn", cnn, (32, 28, 28, 1), "sgd")]:
        x, y = rng.random(shape, dtype=np.float32), rng.integers(0, 10, shape[0])
        out[name] = {"numpy": losses(False, build, x, y, optimizer),
                     "kernels": losses(True, build, x, y, optimizer)}
    json.dumps(out)
    """
)

# A traced CNN train step with the kernels: each Conv2D's bias and ReLU fused into its
# convolution (the ReLU's gradient reads its output, so the pre-activation is dead), each ReLU
# gradient one call; the losses match eager steps from the same weights.
FUSED_TRAIN_PLAN = textwrap.dedent(
    """
    import json
    import numpy as np
    import webkeras as keras
    from webkeras import layers
    from webkeras.backend.numpy import wasm_kernels

    wasm_kernels.set_enabled(True)
    keras.backend.set_backend("numpy")
    rng = np.random.default_rng(3)
    x, y = rng.random((8, 12, 12, 1), dtype=np.float32), rng.integers(0, 4, 8)

    def run(jit_compile):
        keras.utils.set_random_seed(2)
        model = keras.Sequential([
            keras.Input((12, 12, 1)), layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2), layers.Conv2D(16, 3, activation="relu"), layers.Flatten(),
            layers.Dense(32, activation="relu"), layers.Dense(4, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy", jit_compile=jit_compile)
        losses = [float(model.train_on_batch(x, y)) for _ in range(6)]
        plans = model._step_plans._signatures.values() if model._step_plans else []
        # each call: its name and its constant bool and str arguments (relu=..., "greater")
        calls = [[(fn.__name__, [a[1] for a in args if a[0] == 1 and type(a[1]) in (bool, str)])
                  for fn, args, _, _ in s.plan.calls] for s in plans if s.plan is not None]
        return losses, calls

    traced, calls = run(True)
    eager, _ = run(False)
    json.dumps({"traced": traced, "eager": eager, "calls": calls})
    """
)

# load() refuses a module whose bytes do not match the recorded sha256, and one without it.
HASH_CHECK = textwrap.dedent(
    """
    import json, os, shutil, tempfile
    from webkeras.backend.numpy import wasm_kernels

    loaded = wasm_kernels.kernels()
    out = {"loaded": loaded.variant if loaded else None,
           "relaxed": wasm_kernels.relaxed_simd_supported()}
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "copy.wasm")
    shutil.copy(wasm_kernels.module_path(), path)
    shutil.copy(wasm_kernels.module_path() + ".sha256", path + ".sha256")
    out["copy loads"] = wasm_kernels.load(path) is not None
    with open(path, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    try:
        wasm_kernels.load(path)
        out["tampered"] = "loaded"
    except ValueError as error:
        out["tampered"] = str(error)
    os.remove(path + ".sha256")
    try:
        wasm_kernels.load(path)
        out["no hash"] = "loaded"
    except OSError as error:
        out["no hash"] = type(error).__name__
    json.dumps(out)
    """
)


@pytest.fixture(scope="module")
def tab(playwright, server_url, tmp_path_factory, build_dir):
    """One /train page (NumPy backend) whose worker has booted, shared by this module's tests."""
    if not (Path(build_dir) / "pyodide" / "pyodide.mjs").is_file():
        pytest.skip("build/pyodide is missing: run `make setup` first")
    profile = tmp_path_factory.mktemp("wasm-kernels-profile")
    with local_chromium(playwright, server_url, profile) as context:
        page = context.new_page()
        page.goto(server_url + "/train?backend=numpy")
        wait_ready(page)
        yield page


@pytest.mark.parametrize("variant", sorted(wasm_kernels.MODULES))
def test_every_kernel_matches_numpy_in_the_tab(tab, variant):
    out = json.loads(run_python(tab, f"VARIANT = {variant!r}\n" + PARITY.read_text()))
    assert out["module"].endswith(wasm_kernels.MODULES[variant])
    results = out["kernels"]
    print(variant, json.dumps(results, indent=1))
    assert sorted(results) == sorted(KERNELS)
    for name, entry in results.items():
        assert not entry.get("failures"), (name, entry["failures"][:5])
        assert entry["cases"] > 0, name
        assert entry["max_rel_err"] <= MAX_REL_ERR, (name, entry)
    assert results["sgemm"]["cases"] >= 500


def test_train_steps_agree_with_and_without_kernels(tab):
    results = json.loads(run_python(tab, TRAIN_BOTH_WAYS))
    for name, runs in results.items():
        (used_numpy, plain), (used_kernels, fast) = runs["numpy"], runs["kernels"]
        assert not used_numpy and used_kernels, (name, runs)
        assert fast[-1] < fast[0], (name, fast)  # it learns
        for a, b in zip(plain, fast):
            assert abs(a - b) <= 1e-4 * max(abs(a), 1.0), (name, plain, fast)


def test_traced_cnn_step_fuses_relu_and_its_gradient(tab):
    out = json.loads(run_python(tab, FUSED_TRAIN_PLAN))
    (calls,) = out["calls"]
    names = [name for name, _ in calls]
    # both convolutions with their bias and ReLU (the last constant argument: relu=True)
    assert [flags[-1] for name, flags in calls if name == "conv_bias_relu"] == [True, True], calls
    assert names.count("relu_grad") == 3, names  # two Conv2D and one Dense
    assert ["relu"] in [flags for name, flags in calls if name == "unary"], calls  # the Dense's
    assert ["greater"] not in [flags for name, flags in calls if name == "binary"], calls
    assert out["traced"][-1] < out["traced"][0], out  # it learns
    for a, b in zip(out["traced"], out["eager"]):
        assert abs(a - b) <= 1e-5 * max(abs(a), 1.0), out


def test_module_is_checked_against_its_sha256_on_load(tab):
    out = json.loads(run_python(tab, HASH_CHECK))
    # Chromium has relaxed SIMD (114+): the fused multiply-add build is the one in use.
    assert out["relaxed"] and out["loaded"] == "relaxed_simd" and out["copy loads"], out
    assert "does not match" in out["tampered"] and "make setup" in out["tampered"], out
    assert out["no hash"] == "FileNotFoundError", out


def test_natively_numpy_computes():
    assert wasm_kernels.kernels() is None
    assert NumpyBackend().simd is None


@pytest.mark.parametrize("name", sorted(wasm_kernels.MODULES.values()))
def test_wheel_carries_the_modules_and_their_hashes(name):
    module = BUILT / name
    if not WHEEL.is_file() or not module.is_file():
        pytest.skip("build/ is missing: run `make setup` first")
    data = module.read_bytes()
    assert data[:4] == b"\0asm"
    recorded = (BUILT / (name + ".sha256")).read_text().split()[0]
    assert recorded == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(WHEEL) as wheel:
        assert wheel.read(f"webkeras/kernels/wasm/{name}") == data
        assert wheel.read(f"webkeras/kernels/wasm/{name}.sha256").decode().split()[0] == recorded
