"""Flask app factory and blueprints.

Routes:
    /                   index linking to the pages
    /workbench          a notebook-like page: edit and run Keras code in the tab (web/workbench.*)
    /train              the MNIST training page
    /predict            draw a digit; a converted model (default /models/mnist_cnn) predicts it
    /handwriting        teach the MNIST CNN your handwriting: fine-tune it in the tab, download it
    /webkeras.js        the JS API, an ES module (web/webkeras.js): loadModel(url), model.predict
    /static/<path>      the repo's web/ (our JS, CSS, HTML, the page's Python)
    /vendor/<path>      build/vendor/ (Chart.js; TF.js under tfjs/ for the browser tests)
    /pyodide/<path>     build/pyodide/ (Pyodide runtime, numpy and webkeras wheels)
    /models/<path>      TF.js layers models (model.json + group*-shard*.bin) from the models
                        folder: `create_app(models_dir=...)`, `WEBKERAS_MODELS_DIR`, or
                        build/models/; a missing file is a JSON 404 naming it
    /datasets/<name>    the dataset cache (webkeras.utils.file_utils.data_dir()): ETag, byte
                        ranges, gzip for text files when the client accepts it
    /api/datasets       JSON: every dataset (files present, sizes, shapes, source, licence)
    /api/runtime        JSON: which webkeras wheel the worker should load
    /convert            convert a model (Keras <-> TF.js) through POST /api/convert (a zip
                        back); see server/convert_api.py

Every response is cross-origin isolated (COOP `same-origin` + COEP `require-corp`): the
workbench shares a SharedArrayBuffer with its worker (Pyodide's interrupt buffer, so Stop can
interrupt a plain Python loop), and a worker is isolated only when its page and its own script
are. Everything the pages load comes from this server, so nothing else changes for them.

Every file goes through `send_from_directory` (never outside its folder), with an ETag and
conditional GET. Our own code and data are revalidated on each load (`no-cache`); the versioned
Pyodide runtime may be cached for a week.
"""

import gzip
import json
import mimetypes
import os
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, request
from flask import send_from_directory
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from . import security
from .convert_api import DEFAULT_MAX_UPLOAD_BYTES, UploadRequest, convert_api

REPO_ROOT = Path(__file__).resolve().parent.parent

# Browsers refuse to compile wasm streaming or import modules served with the wrong type, and
# Python's mimetypes table differs between versions: name the types we rely on.
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".npz": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".npy": "application/octet-stream",
    ".gz": "application/gzip",
    ".py": "text/x-python",
    ".wgsl": "text/plain",
    ".txt": "text/plain",
    ".sha256": "text/plain",
}

NO_CACHE = "no-cache"
RUNTIME_MAX_AGE = 7 * 24 * 3600
# Files in build/pyodide/ that change with every `make setup` under the same name.
MUTABLE_RUNTIME_PREFIXES = ("webkeras", "pyodide-lock")


def default_build_dir():
    return Path(os.environ.get("WEBKERAS_BUILD_DIR") or REPO_ROOT / "build")


def default_data_dir():
    try:
        from webkeras.utils.file_utils import data_dir
    except ImportError:
        # The library is not importable (e.g. a bare checkout): same rule as file_utils.
        home = os.environ.get("WEBKERAS_HOME") or Path.home() / ".webkeras"
        return Path(home) / "datasets"
    return Path(data_dir())


def mime_type(filename):
    suffix = Path(filename).suffix.lower()
    return MIME_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def serve_file(directory, filename, cache_control=NO_CACHE, missing_hint=None):
    """send_from_directory with our MIME table, an ETag and the given Cache-Control."""
    directory = Path(directory)
    if not directory.is_dir():
        not_found(f"directory {directory} does not exist; {missing_hint or 'run `make setup`'}")
    response = send_from_directory(
        directory, filename, mimetype=mime_type(filename), etag=True, conditional=True,
        max_age=None,
    )
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def not_found(message):
    response = jsonify(error="not found", message=message, path=request.path)
    response.status_code = 404
    abort(response)


# -- pages ----------------------------------------------------------------------------------
pages = Blueprint("pages", __name__)

INDEX_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webkeras</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><main class="index"><h1>webkeras</h1>
<p>Keras in Python, running in this tab on WebGPU.</p>
<ul><li><a href="/workbench">Workbench: write and run Keras code, with live charts</a></li>
<li><a href="/train">Train an MLP on MNIST (one click)</a></li>
<li><a href="/predict">Draw a digit: a converted model predicts it</a></li>
<li><a href="/handwriting">Teach it your handwriting: fine-tune the MNIST CNN in the tab</a></li>
<li><a href="/convert">Convert a model (Keras ⇄ TF.js)</a></li></ul>
</main></body></html>
"""


@pages.get("/")
def index():
    return INDEX_HTML, 200, {"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": NO_CACHE}


# Cross-origin isolation: what makes SharedArrayBuffer (the interrupt buffer) available.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


@pages.after_app_request
def cross_origin_isolation(response):
    for name, value in ISOLATION_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@pages.get("/workbench")
def workbench():
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "workbench.html")


@pages.get("/train")
def train():
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "train.html")


@pages.get("/train/")
def train_slash():
    return redirect("/train")


@pages.get("/predict")
def predict():
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "predict.html")


@pages.get("/handwriting")
def handwriting():
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "handwriting.html")


@pages.get("/webkeras.js")
def js_api():
    """The JS API (an ES module): `import * as webkeras from "/webkeras.js"`."""
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "webkeras.js")


# -- static assets --------------------------------------------------------------------------
assets = Blueprint("assets", __name__)


@assets.get("/static/<path:filename>")
def static_file(filename):
    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], filename)


@assets.get("/vendor/<path:filename>")
def vendor_file(filename):
    directory = Path(current_app.config["WEBKERAS_BUILD_DIR"]) / "vendor"
    return serve_file(directory, filename, cache_control=f"public, max-age={RUNTIME_MAX_AGE}")


@assets.get("/pyodide/<path:filename>")
def pyodide_file(filename):
    directory = Path(current_app.config["WEBKERAS_BUILD_DIR"]) / "pyodide"
    if Path(filename).name.startswith(MUTABLE_RUNTIME_PREFIXES):
        cache_control = NO_CACHE
    else:
        cache_control = f"public, max-age={RUNTIME_MAX_AGE}"
    return serve_file(directory, filename, cache_control=cache_control)


@assets.get("/models/<path:filename>")
def model_file(filename):
    """A file of a saved TF.js layers model (`save_tfjs` output), revalidated on each load."""
    directory = Path(current_app.config["WEBKERAS_MODELS_DIR"])
    path = safe_join(str(directory), filename)
    if path is None or not os.path.isfile(path):
        not_found(f"model file {filename} not found in {directory}; write it with "
                  "webkeras.saving.tfjs.save_tfjs(model, directory) or run `make setup`")
    return serve_file(directory, filename)


@assets.get("/api/runtime")
def runtime_info():
    """Which webkeras wheel build/pyodide/ holds, and whether pyodide-lock.json lists it (then
    the worker loads it by name, with the lock's integrity check)."""
    directory = Path(current_app.config["WEBKERAS_BUILD_DIR"]) / "pyodide"
    wheels = sorted(directory.glob("webkeras-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        not_found(f"no webkeras-*.whl in {directory}; run `make setup`")
    wheel = wheels[-1].name
    in_lock = False
    try:
        lock = json.loads((directory / "pyodide-lock.json").read_text(encoding="utf-8"))
        in_lock = lock["packages"].get("webkeras", {}).get("file_name") == wheel
    except (OSError, ValueError, KeyError):
        pass
    response = jsonify(webkeras_wheel=wheel, webkeras_in_lock=in_lock)
    response.headers["Cache-Control"] = NO_CACHE
    return response


# -- datasets -------------------------------------------------------------------------------
datasets = Blueprint("datasets", __name__)

# Worth gzipping on the fly (text); .npz and .tar.gz are compressed already.
GZIP_SUFFIXES = (".json", ".csv", ".txt", ".npy")
GZIP_MIN_BYTES = 1024
_gzip_cache = {}  # (path, mtime_ns, size) -> gzipped bytes; data files change rarely


def _dataset_hint(name, directory):
    """What to tell a client whose dataset file is missing (the library's registry knows)."""
    try:
        from webkeras.datasets.registry import find_file
    except ImportError:
        find_file = None
    data_file = find_file(name) if find_file else None
    if data_file is not None and data_file.sha256:
        return f"dataset file {name} not found in {directory}. {data_file.hint(str(directory))}"
    return f"dataset file {name} not found in {directory}; run `make setup` on the server"


def _wants_gzip(path):
    return (
        path.suffix in GZIP_SUFFIXES
        and "gzip" in request.headers.get("Accept-Encoding", "")
        and "Range" not in request.headers
        and path.stat().st_size >= GZIP_MIN_BYTES
    )


def _gzip_response(path):
    """The file gzipped (cached per version), with its own ETag and conditional GET."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    body = _gzip_cache.get(key)
    if body is None:
        _gzip_cache.clear()
        body = _gzip_cache[key] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
    response = current_app.response_class(body, mimetype=mime_type(path.name))
    response.set_etag(f"{stat.st_mtime_ns:x}-{stat.st_size:x}-gzip")
    response.headers["Content-Encoding"] = "gzip"
    response.headers["X-Uncompressed-Length"] = str(stat.st_size)
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@datasets.get("/datasets/<name>")
def dataset_file(name):
    """A data file: ETag + conditional GET, byte ranges (206), gzip for text when asked."""
    directory = Path(current_app.config["WEBKERAS_DATA_DIR"])
    path = directory / name
    if name.startswith(".") or not path.is_file():
        not_found(_dataset_hint(name, directory))
    response = _gzip_response(path) if _wants_gzip(path) else serve_file(directory, name)
    response.vary.add("Accept-Encoding")
    return response


@datasets.get("/api/datasets")
def list_datasets():
    """`catalog`: every Keras dataset (files present, sizes, shapes, source, licence), from
    webkeras.datasets.registry; `datasets`: the files in the data directory."""
    directory = Path(current_app.config["WEBKERAS_DATA_DIR"])
    files = []
    if directory.is_dir():
        files = [
            {"name": p.name, "size": p.stat().st_size}
            for p in sorted(directory.iterdir())
            if p.is_file() and not p.name.startswith(".")
        ]
    try:
        from webkeras.datasets.registry import describe
    except ImportError:
        catalog = None
    else:
        catalog = describe(str(directory))
    response = jsonify(data_dir=str(directory), datasets=files, catalog=catalog)
    response.headers["Cache-Control"] = NO_CACHE
    return response


# -- factory --------------------------------------------------------------------------------
def create_app(data_dir=None, build_dir=None, web_dir=None, models_dir=None,
               max_upload_bytes=DEFAULT_MAX_UPLOAD_BYTES):
    """The webkeras Flask app.

    Args:
        data_dir: dataset folder served under /datasets (default: the library's data_dir()).
        build_dir: folder holding pyodide/ and vendor/ (default: `WEBKERAS_BUILD_DIR` or
            <repo>/build).
        web_dir: the web app's folder (default: <repo>/web).
        models_dir: TF.js models served under /models (default: `WEBKERAS_MODELS_DIR` or
            <build_dir>/models).
        max_upload_bytes: largest request body (POST /api/convert); bigger ones get 413.
    """
    app = Flask(__name__, static_folder=None)
    app.request_class = UploadRequest
    app.config["MAX_CONTENT_LENGTH"] = max_upload_bytes
    app.config["WEBKERAS_DATA_DIR"] = str(data_dir or default_data_dir())
    app.config["WEBKERAS_BUILD_DIR"] = str(build_dir or default_build_dir())
    app.config["WEBKERAS_WEB_DIR"] = str(web_dir or REPO_ROOT / "web")
    app.config["WEBKERAS_MODELS_DIR"] = str(
        models_dir or os.environ.get("WEBKERAS_MODELS_DIR")
        or Path(app.config["WEBKERAS_BUILD_DIR"]) / "models")
    app.register_blueprint(pages)
    app.register_blueprint(assets)
    app.register_blueprint(datasets)
    app.register_blueprint(convert_api)
    security.install(app)

    @app.errorhandler(HTTPException)
    def http_error(error):
        # abort(response) carries its own body; other errors get a one-line JSON body.
        if error.response is not None:
            return error.response
        response = jsonify(error=error.name.lower(), message=error.description, path=request.path)
        response.status_code = error.code
        return response

    return app
