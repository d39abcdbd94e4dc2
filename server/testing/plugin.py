"""The pytest plugin (entry point `pytest11: webkeras`): test your model in a browser tab.

    def test_my_model(tab, assert_tab_matches_native):
        assert_tab_matches_native("my_model.keras", x, atol=1e-4)
        tab.load_model("my_model.keras")
        y = tab.predict(x)

Fixtures:
    tab                        a Tab (webkeras.server.testing.tab) on one backend; a test that
                               uses it runs once per backend of --webkeras-backend (default:
                               webgpu and numpy; webgpu is skipped, with the reason, where the
                               browser has no adapter, and fails if you asked for it)
    assert_tab_matches_native  (model_or_path, inputs, atol=1e-4, tab_model=None) on that tab
    webkeras_browser           the session's server + headless Chromium (one of each)

Choose backends per test with `@pytest.mark.parametrize("tab", ["numpy"], indirect=True)`.
"""

import functools

import pytest

DEFAULT_BACKENDS = ("webgpu", "numpy")
DEFAULT_MARK = "webkeras_default_backend"


def pytest_addoption(parser):
    group = parser.getgroup("webkeras", "webkeras: tests in a headless browser tab")
    group.addoption("--webkeras-backend", action="append", default=None, metavar="NAME",
                    help="tab backend(s) the `tab` fixture runs on: webgpu, numpy or auto; "
                         "repeat or comma-separate for several (default: webgpu,numpy, "
                         "skipping webgpu where the browser has no adapter)")


def pytest_configure(config):
    config.addinivalue_line("markers", f"{DEFAULT_MARK}: a `tab` backend the user did not name "
                                       "(skipped, not failed, when it is unavailable)")


def requested_backends(config):
    option = config.getoption("webkeras_backend")
    if option is None:
        return list(DEFAULT_BACKENDS), False
    names = [name.strip() for value in option for name in value.split(",") if name.strip()]
    return names, True


def uses_our_tab(metafunc):
    """Whether the test's `tab` is this plugin's (a project may have a `tab` of its own)."""
    definitions = metafunc._arg2fixturedefs.get("tab") or []
    return bool(definitions) and definitions[-1].func.__module__ == __name__


def pytest_generate_tests(metafunc):
    if "tab" not in metafunc.fixturenames or not uses_our_tab(metafunc):
        return
    # A test that parametrizes `tab` itself (indirect) chose its backends.
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        names = names.split(",") if isinstance(names, str) else names
        if "tab" in [name.strip() for name in names]:
            return
    backends, explicit = requested_backends(metafunc.config)
    marks = [] if explicit else [getattr(pytest.mark, DEFAULT_MARK)]
    metafunc.parametrize("tab", [pytest.param(b, id=b, marks=marks) for b in backends],
                         indirect=True)


@pytest.fixture(scope="session")
def webkeras_browser(request, tmp_path_factory):
    """The webkeras server and headless Chromium, started once for the session."""
    # Flask and Playwright are the test extras' dependencies, not webkeras's: imported only
    # when a test asks for a tab, so pytest keeps working where they are not installed.
    try:
        from playwright.sync_api import sync_playwright

        from .tab import open_browser
    except ImportError as error:
        pytest.fail(f"webkeras's `tab` needs Flask and Playwright ({error}): "
                    "pip install 'webkeras[test]'", pytrace=False)

    if request.config.pluginmanager.has_plugin("playwright"):
        # pytest-playwright owns the session's Playwright; a second one cannot start.
        playwright = request.getfixturevalue("playwright")
        manager = None
    else:
        manager = sync_playwright()
        playwright = manager.start()
    try:
        with open_browser(playwright, tmp_path_factory.mktemp("webkeras-chromium")) as browser:
            yield browser
    except FileNotFoundError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        if manager is not None:
            playwright.stop()


@pytest.fixture
def tab(request, webkeras_browser):
    """A browser tab running webkeras on one backend (request.param); models loaded in the
    test are disposed after it."""
    from .tab import NoWebGPU, TabError

    backend = getattr(request, "param", "auto")
    try:
        browser_tab = webkeras_browser.tab(backend)
    except NoWebGPU as error:
        if request.node.get_closest_marker(DEFAULT_MARK):
            pytest.skip(str(error))
        pytest.fail(f"--webkeras-backend webgpu was asked for: {error}", pytrace=False)
    except (TabError, ValueError) as error:
        pytest.fail(str(error), pytrace=False)
    yield browser_tab
    browser_tab.dispose_models()


@pytest.fixture
def assert_tab_matches_native(tab):
    """assert_tab_matches_native(model_or_path, inputs, atol=1e-4, tab_model=None): predicts
    natively and in the tab; fails naming each output's worst element, both values there,
    the difference and the tolerance."""
    from .compare import assert_tab_matches_native as check

    return functools.partial(check, tab)
