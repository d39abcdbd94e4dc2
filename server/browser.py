"""Headless Chromium with WebGPU against a local webkeras server: shared by tests and bench/.

    with serve_app(create_app()) as url, sync_playwright() as p:
        context = launch_chromium(p, profile_dir)
        page = context.new_page(); page.goto(url + "/train")
        wait_ready(page); print(run_python(page, "1 + 1"))
"""

import contextlib
import os
import shlex
import threading
from pathlib import Path

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path():
    """The Chromium to launch: $WEBKERAS_CHROMIUM, else Debian's /usr/bin/chromium."""
    return os.environ.get("WEBKERAS_CHROMIUM", DEFAULT_CHROMIUM)


CHROMIUM = chromium_path()
# --enable-unsafe-webgpu: without it requestAdapter() returns null (SwiftShader is "unsafe").
# The background-networking flags keep Chromium from calling out to the internet.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-webgpu",
]
BOOT_TIMEOUT_MS = 120_000


def chromium_args():
    """CHROMIUM_ARGS plus $WEBKERAS_CHROMIUM_ARGS (e.g. flags that pick a real GPU, or
    `--disable-gpu --disable-software-rasterizer`, which leaves WebGPU without an adapter)."""
    return CHROMIUM_ARGS + shlex.split(os.environ.get("WEBKERAS_CHROMIUM_ARGS", ""))


@contextlib.contextmanager
def serve_app(app):
    """Serve `app` on a free 127.0.0.1 port in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="webkeras-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def require_chromium():
    """chromium_path(), or FileNotFoundError saying where it looked and how to point it."""
    path = chromium_path()
    if not Path(path).is_file():
        where = "$WEBKERAS_CHROMIUM" if "WEBKERAS_CHROMIUM" in os.environ else "the default path"
        raise FileNotFoundError(
            f"No Chromium at {path} ({where}). Install it (`apt-get install chromium`) or set "
            "WEBKERAS_CHROMIUM to the path of a Chromium or Chrome executable.")
    return path


def launch_chromium(playwright, profile_dir, **kwargs):
    """A persistent headless Chromium context (launch() refuses --user-data-dir in args)."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=chromium_path(), headless=True, args=chromium_args(),
        **kwargs
    )


def wait_ready(page, timeout_ms=BOOT_TIMEOUT_MS):
    """Wait until the page's worker has booted Pyodide + webkeras (or shown an error)."""
    page.wait_for_function(
        "(window.webkeras && window.webkeras.ready) || !document.getElementById('error').hidden",
        timeout=timeout_ms,
    )
    if not page.locator("#error").is_hidden():
        raise RuntimeError(page.text_content("#error"))


def run_python(page, code):
    """Run `code` in the page's Pyodide worker; returns the repr-free string it evaluates to."""
    return page.evaluate("(code) => window.webkeras.runPython(code)", code)
