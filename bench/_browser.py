"""Runs benchmark snippets inside the /train page's Pyodide worker in headless Chromium.

A helper module for bench/train_step.py (the leading underscore keeps `make bench` from running
it on its own).
"""

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "py"), str(ROOT)]

from webkeras.server.app import create_app  # noqa: E402
from webkeras.server.browser import launch_chromium, run_python, serve_app, wait_ready  # noqa: E402

def run_in_worker(code, backend="webgpu"):
    """Boot /train in a fresh headless Chromium, run `code` in its worker, return the result."""
    if not (ROOT / "build" / "pyodide" / "pyodide.mjs").exists():
        raise RuntimeError("build/pyodide is missing: run `make setup` first")
    from playwright.sync_api import sync_playwright

    with serve_app(create_app()) as url, sync_playwright() as playwright, \
            tempfile.TemporaryDirectory() as profile:
        context = launch_chromium(playwright, profile)
        try:
            page = context.new_page()
            page.goto(f"{url}/train?backend={backend}")
            wait_ready(page)
            return run_python(page, code)
        finally:
            context.close()


def measure_train_step(steps, backend="webgpu"):
    """Median ms per MLP train step (batch 128, Adam) in the tab."""
    try:
        from bench.train_step import WEBKERAS_SETUP, mlp_step_snippet

        code = mlp_step_snippet(WEBKERAS_SETUP.format(backend=backend), steps) + "\nRESULT"
        return json.loads(run_in_worker(code, backend))
    except Exception as error:  # noqa: BLE001 - reported in the bench table
        return {"error": f"{type(error).__name__}: {error}"[:300]}


if __name__ == "__main__":
    print(measure_train_step(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
