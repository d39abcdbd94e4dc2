"""Headless Chromium pages against the webkeras server, for the browser benches.

A helper module for bench/train_step.py and bench/load_predict.py (the leading underscore keeps
`make bench` from running it on its own).

    with browser_session() as (playwright, url), fresh_page(playwright, url, "/") as page:
        add_tfjs(page)
"""

import contextlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from webkeras.server.app import create_app
from webkeras.server.browser import launch_chromium, run_python, serve_app, wait_ready

TFJS_SCRIPTS = ("tf.min.js", "tf-backend-webgpu.min.js", "tf-backend-wasm.min.js")
# JS statements that start TF.js on `backend` (a variable in scope) or throw. The server now
# sends COOP/COEP headers, which would make TF.js wasm pick its threaded build (whose worker
# never starts here, and which would not compare like with like): keep it single-threaded.
TFJS_SET_BACKEND = """
  if (backend === "wasm") {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.wasm.setWasmPaths("/vendor/tfjs/");
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
  await tf.ready();"""


@contextlib.contextmanager
def browser_session():
    """The webkeras server on a free port and Playwright; yields (playwright, base URL)."""
    if not (ROOT / "build" / "pyodide" / "pyodide.mjs").exists():
        raise RuntimeError("build/pyodide is missing: run `make setup` first")
    from playwright.sync_api import sync_playwright

    with serve_app(create_app()) as url, sync_playwright() as playwright:
        yield playwright, url


@contextlib.contextmanager
def fresh_page(playwright, url, path):
    """`url + path` in headless Chromium with a fresh profile, so each contender pays a first
    visit and none shares a GPU device or cache with another."""
    with tempfile.TemporaryDirectory() as profile:
        context = launch_chromium(playwright, profile)
        try:
            page = context.new_page()
            page.goto(url + path)
            yield page
        finally:
            context.close()


def add_tfjs(page):
    """Load the vendored TF.js 4.22 (core with cpu + webgl, and the webgpu and wasm backends)."""
    for script in TFJS_SCRIPTS:
        page.add_script_tag(url=f"/vendor/tfjs/{script}")


def run_in_worker(page, code):
    """Wait for the /train page's Pyodide worker to boot, then run `code` in it."""
    wait_ready(page)
    return run_python(page, code)


def attempt(measure, *args):
    """`measure(*args)`, or an error row for the bench table when it raises."""
    try:
        return measure(*args)
    except Exception as error:  # noqa: BLE001 - reported in the bench table
        return error_row(error)


def error_row(error):
    return {"error": f"{type(error).__name__}: {error}"[:300]}
