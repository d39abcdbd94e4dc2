"""Shared fixtures: the real Flask server in a thread, and headless Chromium (WebGPU on).

Browser tests use `chromium_context` (a fresh persistent profile per test, /usr/bin/chromium)
and `open_page(path)`; both fail the test if the page or its worker requests anything other
than the local test server.
"""

import contextlib
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
for path in (REPO_ROOT / "py", REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from webkeras.server.app import create_app, default_build_dir  # noqa: E402
from webkeras.server.browser import CHROMIUM, launch_chromium, serve_app  # noqa: E402

RESULTS_DIR = REPO_ROOT / "test-results"
# Every test starts from the same random state (initial weights, shuffling, dropout), so a
# test that trains gets the same model on every run; a test may seed again with its own.
TEST_SEED = 1337


@pytest.fixture(autouse=True)
def seeded_random_state():
    import webkeras

    webkeras.utils.set_random_seed(TEST_SEED)


@pytest.fixture
def numpy_backend():
    """The NumPy backend for one test (a module opts in with
    `pytestmark = pytest.mark.usefixtures("numpy_backend")`); the backend object that was
    active comes back afterwards."""
    from webkeras import backend

    with backend.backend_scope("numpy") as numpy:
        yield numpy


# The modules whose tests train models natively (fit, train_on_batch, evaluate, predict):
# each of their tests runs twice, with steps traced (compile's default jit_compile="auto"
# replays them) and eager (WEBKERAS_JIT_COMPILE=0), so both ways meet every assertion
# (issue #17). Paths relative to tests/; a folder takes every module in it.
TRAINED_BOTH_WAYS = (
    "test_training.py", "test_training_refusals.py", "test_training_examples.py",
    "test_models.py", "test_fit_inputs.py", "test_add_loss.py", "test_guide_gaps.py",
    "test_callbacks.py", "test_callback_contract.py", "test_optimizers.py", "test_metrics.py",
    "test_loss_target_shapes.py", "test_rnn_fused.py", "test_real_data.py", "test_saving.py",
    "test_lenet_mnist.py", "test_mnist_native.py", "layers/",
)
# Their eager runs are `slow` (make test-slow): a minute or more of real-data training each.
EAGER_RUN_IS_SLOW = ("test_lenet_mnist.py", "test_mnist_native.py")
STEP_MODES = ("traced", "eager")


def pytest_addoption(parser):
    parser.addoption("--step-mode", choices=STEP_MODES + ("both",), default="both",
                     help="how the training modules (conftest.TRAINED_BOTH_WAYS) run their "
                          "steps: traced, eager, or both (the default)")


def _tests_path(module):
    return Path(module.__file__).resolve().relative_to(REPO_ROOT / "tests").as_posix()


def pytest_generate_tests(metafunc):
    if "step_mode" not in metafunc.fixturenames:
        return
    path = _tests_path(metafunc.module)
    if not path.startswith(TRAINED_BOTH_WAYS):
        return
    chosen = metafunc.config.getoption("step_mode")
    slow = [pytest.mark.slow] if path in EAGER_RUN_IS_SLOW else []
    metafunc.parametrize("step_mode", [
        pytest.param(mode, marks=slow if mode == "eager" else [])
        for mode in STEP_MODES if chosen in (mode, "both")], indirect=True)


@pytest.fixture(autouse=True)
def step_mode(request):
    """"traced" or "eager" (see TRAINED_BOTH_WAYS); eager sets WEBKERAS_JIT_COMPILE=0, which
    makes compile's jit_compile="auto" eager. Tests outside those modules keep the default."""
    mode = getattr(request, "param", "traced")
    if mode == "eager":
        request.getfixturevalue("monkeypatch").setenv("WEBKERAS_JIT_COMPILE", "0")
    return mode


@pytest.fixture(scope="session")
def build_dir():
    return default_build_dir()


@pytest.fixture(scope="session")
def server_url():
    """The real app (repo web/, build/, the library's data dir) on a free local port."""
    with serve_app(create_app()) as url:
        yield url


@pytest.fixture(scope="session")
def results_dir():
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR


@pytest.fixture
def requires_runtime(build_dir):
    if not (Path(build_dir) / "pyodide" / "pyodide.mjs").is_file():
        pytest.skip(f"{build_dir}/pyodide/pyodide.mjs is missing: run `make setup` first")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` (make setup does it)")


@contextlib.contextmanager
def local_chromium(playwright, server_url, profile_dir, **kwargs):
    """A headless Chromium context that may only talk to `server_url`; any other request is
    aborted and fails the caller on exit. `context.seen_requests` lists every URL asked for."""
    local = urlsplit(server_url).netloc
    foreign = []

    def is_foreign(url):
        parts = urlsplit(url)
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != local

    def on_request(request):
        context.seen_requests.append(request.url)
        if is_foreign(request.url):
            foreign.append(request.url)

    def guard(route):
        if is_foreign(route.request.url):
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context = launch_chromium(playwright, profile_dir, **kwargs)
    context.seen_requests = []
    context.on("request", on_request)
    context.route("**/*", guard)
    try:
        yield context
    finally:
        context.close()
    assert not foreign, f"requests left the local server: {sorted(set(foreign))}"


@pytest.fixture
def chromium_context(playwright, tmp_path, server_url, requires_runtime):
    """A fresh headless Chromium profile that may only talk to the local test server."""
    with local_chromium(playwright, server_url, tmp_path / "profile",
                        viewport={"width": 1000, "height": 900}) as context:
        yield context


@pytest.fixture
def open_page(chromium_context, server_url):
    """open_page(path) -> a Page at server_url + path, with console errors collected."""

    def _open(path):
        page = chromium_context.pages[0] if chromium_context.pages else chromium_context.new_page()
        page.console_messages_seen = []
        page.on("console", lambda m: page.console_messages_seen.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: page.console_messages_seen.append(f"pageerror: {e}"))
        page.goto(server_url + path)
        return page

    return _open


def pytest_terminal_summary(terminalreporter):
    """The hostile corpus's tally (tests/test_hostile_files.py), when its cases ran."""
    module = sys.modules.get("test_hostile_files")
    if module is not None and module.TALLY["cases"]:
        terminalreporter.write_line(module.tally_line())
