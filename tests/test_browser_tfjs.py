"""Real TF.js 4.22 in headless Chromium loads what `save_tfjs` writes, over the real server.

The six models of tests/reference/make_saving_reference.py (real Keras 3 files) are loaded
with webkeras, written with `save_tfjs` (float32, uint8, uint16, float16 and sharded) into a
models folder that `create_app(models_dir=...)` serves at /models/, and fetched by
`tf.loadLayersModel` in one Chromium page. TF.js's predictions are compared with webkeras's
own: with the same (dequantized) weights, read back by `load_tfjs`, and with the float32
original within the quantization step. Backends: `cpu` for everything, `webgpu` (SwiftShader)
and `wasm` for the float32 models. A malformed model.json must make `tf.loadLayersModel`
reject, and so must a missing shard once the page's fetch checks the HTTP status (TF.js 4.22's
own weight fetch does not: see test_tfjs_default_fetch_misses_a_missing_shard).
"""

import json
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from conftest import create_app, default_build_dir
from interop import max_error, predict, read_reference
from webkeras.saving import load_model
from webkeras.saving.tfjs import load_tfjs, save_tfjs
from webkeras.server.browser import CHROMIUM, launch_chromium, serve_app

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = REPO_ROOT / "tests" / "reference" / "saving"
HELPER_JS = REPO_ROOT / "tests" / "js" / "tfjs_browser.js"
TFJS_VENDOR = default_build_dir() / "vendor" / "tfjs"
TFJS_SCRIPTS = ("tf.min.js", "tf-backend-webgpu.min.js", "tf-backend-wasm.min.js")

pytestmark = [
    pytest.mark.skipif(not all((TFJS_VENDOR / f).is_file() for f in TFJS_SCRIPTS),
                       reason=f"TF.js is not vendored in {TFJS_VENDOR}: run `make setup`"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing: `apt-get install chromium`"),
]

# gru_rnn is checked apart: TF.js 4.22 cannot run it (see test_keras3_gru_is_rejected).
MODELS = ("mlp", "cnn", "embed_lstm", "functional", "deconv")
# Small enough that every model's weights span several shards.
SHARD_SIZE = 64
VARIANTS = {
    "float32": {},
    "uint8": {"quantize": "uint8"},
    "uint16": {"quantize": "uint16"},
    "float16": {"quantize": "float16"},
    "sharded": {"shard_size": SHARD_SIZE},
}
# Against the float32 original, per variant: about one quantization step of the weights,
# relative to the output's scale.
ORIGINAL_TOLERANCE = {"float32": 1e-5, "sharded": 1e-5, "uint16": 1e-3, "float16": 1e-2,
                      "uint8": 0.1}
SAME_WEIGHTS_TOLERANCE = 1e-5
# webgpu and wasm run other kernels than cpu (fused matmul + bias + activation, other
# summation orders, approximated exp/tanh/sigmoid in WGSL and XNNPACK), so float32 rounding
# differs by a few ulps per op. Measured here: <= 3e-7 on these models; 2e-5 leaves room for
# longer op chains and still catches a wrong or misplaced weight.
BACKEND_TOLERANCE = {"cpu": SAME_WEIGHTS_TOLERANCE, "webgpu": 2e-5, "wasm": 2e-5}

CASES = (
    [(name, variant, "cpu") for name in MODELS for variant in VARIANTS]
    + [(name, variant, "webgpu") for name in MODELS for variant in ("float32", "sharded")]
    + [(name, "float32", "wasm") for name in MODELS]
    + [("cnn", "uint8", "wasm")]
)
MAX_ERRORS = {}


def reference(name):
    return read_reference(REFERENCE / f"{name}.npz")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """Every model in every variant, plus two broken ones under broken/."""
    root = tmp_path_factory.mktemp("tfjs-models")
    for name in MODELS + ("gru_rnn",):
        model = load_model(REFERENCE / f"{name}.keras")
        for variant, options in VARIANTS.items():
            save_tfjs(model, root / name / variant, **options)
    malformed = root / "broken" / "malformed"
    malformed.mkdir(parents=True)
    text = (root / "mlp" / "float32" / "model.json").read_text()
    (malformed / "model.json").write_text(text[: len(text) // 2])
    missing = root / "broken" / "missing_shard"
    save_tfjs(load_model(REFERENCE / "mlp.keras"), missing, shard_size=SHARD_SIZE)
    shards = len(list(missing.glob("*.bin")))
    (missing / f"group1-shard2of{shards}.bin").unlink()
    return root


@pytest.fixture(scope="module")
def tfjs_server(models_dir):
    with serve_app(create_app(models_dir=models_dir)) as url:
        yield url


@pytest.fixture(scope="module")
def tfjs_page(playwright, tmp_path_factory, tfjs_server):
    """One Chromium page with TF.js + webgpu + wasm backends, allowed only the local server."""
    local = urlsplit(tfjs_server).netloc
    foreign = []

    def guard(route):
        parts = urlsplit(route.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local:
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context = launch_chromium(playwright, tmp_path_factory.mktemp("tfjs-profile"))
    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto(tfjs_server + "/")
        for script in TFJS_SCRIPTS:
            page.add_script_tag(url=f"/vendor/tfjs/{script}")
        # The server's CSP refuses inline <script> tags; evaluate() runs outside the page's policy.
        page.evaluate(HELPER_JS.read_text())
        # COOP/COEP make TF.js wasm pick its threaded build, whose worker never starts here.
        page.evaluate("tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);"
                      " tf.wasm.setWasmPaths('/vendor/tfjs/')")
        yield page
    finally:
        context.close()
    assert not foreign, f"requests left the local server: {sorted(set(foreign))}"


@pytest.fixture(scope="module", autouse=True)
def report_errors(results_dir):
    yield
    if MAX_ERRORS:
        rows = {"/".join(key): value for key, value in sorted(MAX_ERRORS.items())}
        # Other runs in this checkout may have cleaned test-results/ meanwhile.
        results_dir.mkdir(exist_ok=True)
        (results_dir / "tfjs_browser_errors.json").write_text(json.dumps(rows, indent=1))


def tfjs_predict(page, server, path, backend, xs):
    inputs = [{"shape": list(x.shape), "dtype": str(x.dtype), "data": x.ravel().tolist()}
              for x in xs]
    result = page.evaluate("([url, backend, inputs]) => tfjsTest.predict(url, backend, inputs)",
                           [f"{server}/models/{path}/model.json", backend, inputs])
    assert result["backend"] == backend
    return [np.asarray(y["data"], np.float32).reshape(y["shape"]) for y in result["outputs"]]


@pytest.mark.parametrize("name, variant, backend", CASES,
                         ids=["-".join(case) for case in CASES])
def test_tfjs_predicts_like_webkeras(tfjs_page, tfjs_server, models_dir, name, variant,
                                     backend):
    xs, keras_ys = reference(name)
    directory = models_dir / name / variant
    if variant == "sharded":
        assert len(list(directory.glob("group1-shard*.bin"))) >= 2
    got = tfjs_predict(tfjs_page, tfjs_server, f"{name}/{variant}", backend, xs)
    same_weights = predict(load_tfjs(directory), xs)
    original = predict(load_model(REFERENCE / f"{name}.keras"), xs)
    scale = max(1.0, max(float(np.abs(y).max()) for y in original))

    error = max_error(got, same_weights)
    MAX_ERRORS[(name, variant, backend)] = error
    assert error <= BACKEND_TOLERANCE[backend] * scale, error
    assert max_error(got, original) <= (
        ORIGINAL_TOLERANCE[variant] + BACKEND_TOLERANCE[backend]) * scale
    if variant == "float32":
        # The whole chain: real Keras 3's own prediction, stored with the .keras file.
        assert max_error(got, keras_ys) <= (1e-5 + BACKEND_TOLERANCE[backend]) * scale


def test_keras3_gru_is_rejected(tfjs_page, tfjs_server):
    # Keras 3's GRU defaults to reset_after=True, which TF.js 4.22's GRUCell cannot run; the
    # file is well formed, and TF.js says why it refuses it.
    error = tfjs_page.evaluate("(url) => tfjsTest.loadError(url, false)",
                               f"{tfjs_server}/models/gru_rnn/float32/model.json")
    assert error is not None and "reset_after" in error, error


def test_malformed_model_json_rejects(tfjs_page, tfjs_server):
    error = tfjs_page.evaluate("(url) => tfjsTest.loadError(url, false)",
                               f"{tfjs_server}/models/broken/malformed/model.json")
    assert error is not None and "model.json" in error and "JSON" in error, error


def test_missing_shard_rejects(tfjs_page, tfjs_server, models_dir):
    shards = len(list((models_dir / "broken" / "missing_shard").glob("*.bin"))) + 1
    missing = f"broken/missing_shard/group1-shard2of{shards}.bin"
    error = tfjs_page.evaluate("(url) => tfjsTest.loadError(url, true)",
                               f"{tfjs_server}/models/broken/missing_shard/model.json")
    assert error is not None and f"{missing}: HTTP 404" in error, error
    response = tfjs_page.evaluate("(url) => tfjsTest.fetchStatus(url)",
                                  f"{tfjs_server}/models/{missing}")
    assert response["status"] == 404 and response["type"] == "application/json"
    message = json.loads(response["body"])["message"]
    assert missing in message and "make setup" in message, message


def test_tfjs_default_fetch_misses_a_missing_shard(tfjs_page, tfjs_server):
    # Why the strict fetch above: TF.js 4.22's weights loader never checks response.ok, so
    # the 404 body is decoded as weights. Fails (and can go) once TF.js checks it.
    url = f"{tfjs_server}/models/broken/missing_shard/model.json"
    assert tfjs_page.evaluate("(url) => tfjsTest.loadError(url, false)", url) is None
    xs, _ = reference("mlp")
    garbled = tfjs_predict(tfjs_page, tfjs_server, "broken/missing_shard", "cpu", xs)
    intact = tfjs_predict(tfjs_page, tfjs_server, "mlp/sharded", "cpu", xs)
    # (The shifted bytes give wrong numbers or NaN, depending on the 404 body's length.)
    assert not np.allclose(garbled[0], intact[0], atol=1e-3)
