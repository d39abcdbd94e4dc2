#!/usr/bin/env python3
"""Make what lets the tab's worker start in about a second (web/boot_snapshot.js reads it):

    build/pyodide/webkeras-boot.snapshot   a memory snapshot of the bare Pyodide interpreter
                                           with the standard-library modules numpy and webkeras
                                           import already imported (Pyodide 0.27.7's private
                                           _makeSnapshot; one holding numpy does not restore,
                                           so the tab loads packages after the restore)
    build/pyodide/webkeras-pycache-*.zip   bytecode (unchecked-hash .pyc) for numpy, pyyaml and
                                           webkeras, one zip each: their wheels ship sources,
                                           and compiling them at each import costs ~1 s
    build/pyodide/webkeras-boot.json       the manifest: sizes and sha256 of those files, the
                                           Pyodide build id, the wheel each zip was compiled from

Made in headless Chromium (scripts/boot_snapshot_maker.js in a worker, build/pyodide served
from a local port): the interpreter records at start-up how it can stack switch, and node's
JSPI is another API than the browser's, so a node-made snapshot breaks run_sync in the tab.

    .venv/bin/python scripts/make_boot_snapshot.py
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ROOT, BuildError, atomic_write_bytes, log, sha256_bytes  # noqa: E402

PYODIDE_DIR = os.path.join(ROOT, "build", "pyodide")
MAKER = os.path.join(ROOT, "scripts", "boot_snapshot_maker.js")
CHROMIUM = os.environ.get("WEBKERAS_CHROMIUM", "/usr/bin/chromium")
SNAPSHOT = "webkeras-boot.snapshot"
MANIFEST = "webkeras-boot.json"
TIMEOUT_MS = 300_000
CHUNK = 4 << 20  # bytes per base64 transfer out of the page

MIME_TYPES = {".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
              ".json": "application/json", ".zip": "application/zip", ".whl": "application/zip"}


class Handler(http.server.SimpleHTTPRequestHandler):
    """build/pyodide under /pyodide/, the maker at /maker.js, an empty page at /."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        if path == "/maker.js":
            return MAKER
        if path.startswith("/pyodide/") and ".." not in path:
            return os.path.join(PYODIDE_DIR, path[len("/pyodide/"):])
        return os.path.join(tempfile.gettempdir(), "webkeras-nonexistent")

    def do_GET(self):
        if self.path == "/":
            body = b"<!doctype html><title>boot snapshot</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def read_bytes(page, expression):
    """The Uint8Array `expression` (in the page) as bytes, in base64 chunks."""
    size = page.evaluate(f"() => {expression}.length")
    parts = []
    for start in range(0, size, CHUNK):
        parts.append(base64.b64decode(page.evaluate(
            """([expr, start, end]) => {
                const bytes = eval(expr).subarray(start, end);
                let text = "";
                for (let i = 0; i < bytes.length; i += 32768) {
                  text += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
                }
                return btoa(text);
            }""", [expression, start, min(start + CHUNK, size)])))
    return b"".join(parts)


def make_in_chromium():
    from playwright.sync_api import sync_playwright

    with local_server() as url, sync_playwright() as playwright, \
            tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--headless=new", "--no-sandbox", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"])
        try:
            page = context.new_page()
            page.goto(url + "/")
            error = page.evaluate(
                """(timeout) => new Promise((resolve) => {
                    const worker = new Worker("/maker.js", { type: "module" });
                    const timer = setTimeout(() => resolve("timed out"), timeout);
                    worker.onerror = (e) => resolve(`the maker failed: ${e.message}`);
                    worker.onmessage = ({ data }) => {
                      clearTimeout(timer);
                      window.made = data;
                      resolve(data.error || null);
                    };
                })""", TIMEOUT_MS)
            if error:
                raise BuildError(f"making the boot snapshot in Chromium failed: {error}")
            packages = page.evaluate("() => Object.keys(window.made.pycache)")
            return {
                "snapshot": read_bytes(page, "window.made.snapshot"),
                "pycache": {name: read_bytes(page, f"window.made.pycache[{json.dumps(name)}]")
                            for name in packages},
                "stdlib_modules": page.evaluate("() => window.made.stdlibModules"),
                "build_id": page.evaluate("() => window.made.buildId"),
            }
        finally:
            context.close()


def main():
    made = make_in_chromium()
    with open(os.path.join(PYODIDE_DIR, "pyodide-lock.json"), encoding="utf-8") as f:
        lock = json.load(f)
    pycache = []
    for name, data in made["pycache"].items():
        entry = lock["packages"][name]
        file = f"webkeras-pycache-{name}.zip"
        atomic_write_bytes(os.path.join(PYODIDE_DIR, file), data)
        pycache.append({"package": name, "file": file, "size": len(data),
                        "sha256": sha256_bytes(data),
                        "wheel": {"file": entry["file_name"], "sha256": entry["sha256"]}})
    snapshot = made["snapshot"]
    atomic_write_bytes(os.path.join(PYODIDE_DIR, SNAPSHOT), snapshot)
    manifest = {
        "pyodide": lock["info"]["version"],
        "buildId": made["build_id"],
        "jspi": True,  # made with stack switching: restored only where the browser has it
        "snapshot": {"file": SNAPSHOT, "size": len(snapshot), "sha256": sha256_bytes(snapshot)},
        # Per package: a rebuilt webkeras wheel leaves numpy's bytecode usable.
        "pycache": pycache,
        "stdlibModules": made["stdlib_modules"],
    }
    atomic_write_bytes(os.path.join(PYODIDE_DIR, MANIFEST),
                       (json.dumps(manifest, indent=1) + "\n").encode())
    sizes = ", ".join(f"{e['package']} {e['size'] / 1e6:.1f} MB" for e in pycache)
    log(f"boot snapshot {len(snapshot) / 1e6:.1f} MB ({len(made['stdlib_modules'])} "
        f"standard-library modules imported); bytecode: {sizes}")


if __name__ == "__main__":
    try:
        main()
    except BuildError as error:
        sys.exit(f"make_boot_snapshot: {error}")
