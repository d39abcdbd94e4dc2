"""A browser tab running webkeras, driven from Python: the pytest plugin's `tab` and
`webkeras check` use it.

    with open_browser(playwright, profile_dir) as browser:
        tab = browser.tab("numpy")                # boots Pyodide + webkeras in a worker
        tab.load_model("my_model.keras")          # a .keras, .h5, or TF.js model.json folder
        y = tab.predict(x)                        # NumPy arrays back

The tab is a blank page of the real webkeras server using only the public JS API
(/webkeras.js). The model's files stay where they are on disk: the server serves each folder
a tab loads from under /testing/files/<n>/, and nothing else of the disk.
"""

import base64
import contextlib
from pathlib import Path

import numpy as np
from flask import Blueprint, abort, current_app

from ..app import create_app, default_build_dir, serve_file
from ..browser import launch_chromium, require_chromium, serve_app
from . import BACKENDS

TAB_PAGE = "/testing/tab"
TAB_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webkeras test tab</title>
<link rel="icon" href="data:,"></head><body><p>webkeras test tab</p></body></html>
"""
TFJS_MODEL_FILE = "model.json"
SINGLE_FILE_SUFFIXES = (".keras", ".h5", ".hdf5")

# The page half of the Tab: imports the public JS API and keeps loaded models by id.
# Arrays cross as base64 bytes (exact float32, and far smaller than JSON number lists).
INSTALL_JS = """async () => {
  const api = await import("/webkeras.js");
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer;
  const toBase64 = (array) => {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  const TYPED = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array };
  const models = new Map();
  const failure = (error) => ({ error: error && error.message ? error.message : String(error) });
  window.webkerasTab = {
    api,
    async adapter() {
      if (!navigator.gpu) return "navigator.gpu is missing (this browser has no WebGPU)";
      const adapter = await navigator.gpu.requestAdapter();
      return adapter ? "" : "navigator.gpu.requestAdapter() returned null";
    },
    init: (backend) => api.init({ backend }).catch(failure),
    async load(url) {
      try {
        const model = await api.loadModel(url);
        models.set(model.id, model);
        return { id: model.id, name: model.name, inputs: model.inputs, outputs: model.outputs,
                 device: model.device, pythonName: model.pythonName };
      } catch (error) {
        return failure(error);
      }
    },
    async predict(id, inputs) {
      try {
        const typed = inputs.map(({ data, dtype, shape }) =>
          [new TYPED[dtype](fromBase64(data)), shape]);
        const model = models.get(id);
        const result = await (typed.length === 1 ? model.predict(...typed[0])
          : model.predict(typed));
        const outputs = Array.isArray(result) ? result : [result];
        return { outputs: outputs.map((o) => ({ data: toBase64(o.data), shape: o.shape })) };
      } catch (error) {
        return failure(error);
      }
    },
    dispose(id) {
      models.get(id)?.dispose();
      models.delete(id);
    },
    async run(code) {
      const output = [];
      try {
        const value = await api.runPython(code, { onOutput: (text) => output.push(text) });
        return { value: value === undefined ? null : value, output };
      } catch (error) {
        return { ...failure(error), output };
      }
    },
  };
}"""


class TabError(RuntimeError):
    """The tab refused something (boot, load, predict, run); the message is the tab's text."""


class NoWebGPU(TabError):
    """The browser has no WebGPU adapter, so the "webgpu" backend cannot run."""


# -- the server side: the tab page and the model files it may fetch --------------------------
testing_files = Blueprint("testing_files", __name__)


@testing_files.get(TAB_PAGE)
def tab_page():
    return TAB_HTML, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}


@testing_files.get("/testing/files/<int:folder>/<path:filename>")
def model_file(folder, filename):
    folders = current_app.config["WEBKERAS_TESTING_FOLDERS"]
    if folder >= len(folders):
        abort(404)
    return serve_file(folders[folder], filename)


def testing_app(build_dir=None):
    """The real webkeras app plus the test tab's page and the folders tabs load models from."""
    app = create_app(build_dir=build_dir)
    app.config["WEBKERAS_TESTING_FOLDERS"] = []
    app.register_blueprint(testing_files)
    return app


def model_url_parts(path):
    """(folder to serve, file name to load) for a model on disk, or a clear error."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No model at {path}: expected a .keras or .h5 file, or a TF.js "
                                f"folder holding {TFJS_MODEL_FILE}.")
    if path.is_dir():
        if not (path / TFJS_MODEL_FILE).is_file():
            raise ValueError(f"{path} is a folder without {TFJS_MODEL_FILE}: expected a TF.js "
                             "layers model folder (webkeras convert MODEL FOLDER writes one).")
        return path.resolve(), TFJS_MODEL_FILE
    if path.suffix.lower() in SINGLE_FILE_SUFFIXES or path.suffix.lower() == ".json":
        return path.resolve().parent, path.name
    raise ValueError(f"{path}: expected a .keras or .h5 file, or a TF.js folder (or its "
                     f"{TFJS_MODEL_FILE}); received a '{path.suffix}' file.")


def to_wire(array):
    """A NumPy array as the tab receives it: float32, int32 or uint8 bytes in base64."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        dtype = "uint8"
    elif np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        dtype = "int32"
    else:
        dtype = "float32"
    array = np.ascontiguousarray(array, dtype=dtype)
    return {"data": base64.b64encode(array.tobytes()).decode("ascii"), "dtype": dtype,
            "shape": list(array.shape)}


def tab_inputs(inputs):
    """The inputs cast as the tab will see them (so native predicts on the very same values)."""
    arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    return [np.frombuffer(base64.b64decode(w["data"]), w["dtype"]).reshape(w["shape"])
            for w in map(to_wire, arrays)]


# -- the Python side ------------------------------------------------------------------------
class TabModel:
    """A model loaded in a tab; `predict` runs it there."""

    def __init__(self, tab, path, info):
        self.tab = tab
        self.path = path
        self.id = info["id"]
        self.name = info["name"]
        self.inputs = info["inputs"]
        self.outputs = info["outputs"]
        self.device = info["device"]
        self.output_names = [o.get("name") or f"output_{i}" for i, o in enumerate(self.outputs)]
        # How code run by tab.run(...) names this model.
        self.python_name = info.get("pythonName")

    def predict(self, inputs):
        """Arrays (one per model input) -> the tab's outputs: one array for a one-output model,
        else a list in the model's output order."""
        reply = self.tab.page.evaluate("([id, inputs]) => window.webkerasTab.predict(id, inputs)",
                                       [self.id, [to_wire(a) for a in tab_inputs(inputs)]])
        if "error" in reply:
            raise TabError(f"The tab ({self.tab.backend}) could not predict with "
                           f"{self.path}: {reply['error']}")
        outputs = [np.frombuffer(base64.b64decode(o["data"]), np.float32).reshape(o["shape"])
                   for o in reply["outputs"]]
        return outputs[0] if len(outputs) == 1 else outputs

    def dispose(self):
        self.tab.page.evaluate("(id) => window.webkerasTab.dispose(id)", self.id)


class Tab:
    """One page of the browser with its own webkeras worker, booted on one backend."""

    def __init__(self, browser, page, requested):
        self.browser = browser
        self.page = page
        self.requested = requested
        self.models = []
        self.output = ""
        page.goto(browser.url + TAB_PAGE)
        page.evaluate(INSTALL_JS)
        if requested == "webgpu":
            missing = page.evaluate("() => window.webkerasTab.adapter()")
            if missing:
                raise NoWebGPU(f"No WebGPU adapter in {browser.chromium}: {missing}. Headless "
                               "Chromium needs --enable-unsafe-webgpu (webkeras passes it) and "
                               "a GPU driver or its SwiftShader fallback.")
        booted = page.evaluate("(backend) => window.webkerasTab.init(backend)", requested)
        if "error" in booted:
            raise TabError(f"The tab could not boot webkeras ({requested}): {booted['error']}")
        self.backend = booted["backend"]
        self.boot_seconds = booted["bootSeconds"]

    @property
    def model(self):
        """The model loaded last (what `predict` uses)."""
        if not self.models:
            raise TabError("No model loaded in the tab: call tab.load_model(path) first.")
        return self.models[-1]

    def load_model(self, path):
        """Loads a .keras / .h5 file or a TF.js model.json (or its folder) from disk."""
        folder, name = model_url_parts(path)
        url = f"/testing/files/{self.browser.serve_folder(folder)}/{name}"
        info = self.page.evaluate("(url) => window.webkerasTab.load(url)", url)
        if "error" in info:
            raise TabError(f"The tab ({self.backend}) could not load {path}: {info['error']}")
        model = TabModel(self, path, info)
        self.models.append(model)
        return model

    def predict(self, inputs):
        """`predict` of the model loaded last; see TabModel.predict."""
        return self.model.predict(inputs)

    def run(self, code):
        """Runs Python in the tab's worker (webkeras.runPython; a loaded model is
        `model.python_name` there); returns the value of its last expression. What it printed
        is in `tab.output` afterwards."""
        reply = self.page.evaluate("(code) => window.webkerasTab.run(code)", code)
        self.output = "".join(reply["output"])
        if "error" in reply:
            raise TabError(f"The tab's Python failed: {reply['error']}")
        return reply["value"]

    def dispose_models(self):
        for model in self.models:
            model.dispose()
        self.models = []


class Browser:
    """The webkeras server and one headless Chromium; one Tab per backend, made on first use."""

    def __init__(self, url, app, context, chromium):
        self.url = url
        self.app = app
        self.context = context
        self.chromium = chromium
        self.tabs = {}

    def serve_folder(self, folder):
        folders = self.app.config["WEBKERAS_TESTING_FOLDERS"]
        if folder not in folders:
            folders.append(folder)
        return folders.index(folder)

    def tab(self, backend):
        if backend not in BACKENDS:
            raise ValueError(f"Unknown tab backend {backend!r}: expected one of {BACKENDS}.")
        if backend not in self.tabs:
            # A backend that failed to boot fails every test that asks for it, without retrying.
            try:
                self.tabs[backend] = Tab(self, self.context.new_page(), backend)
            except TabError as error:
                self.tabs[backend] = error
        if isinstance(self.tabs[backend], TabError):
            raise self.tabs[backend]
        return self.tabs[backend]


def require_runtime(build_dir=None):
    """The build folder holding the tab's Pyodide runtime, or a clear error."""
    build_dir = Path(build_dir or default_build_dir())
    if not (build_dir / "pyodide" / "pyodide.mjs").is_file():
        raise FileNotFoundError(
            f"The tab's runtime is missing: no {build_dir}/pyodide/pyodide.mjs. Run `make setup` "
            "in the webkeras checkout, or set WEBKERAS_BUILD_DIR to a folder that has it.")
    return build_dir


@contextlib.contextmanager
def open_browser(playwright, profile_dir, build_dir=None):
    """Starts the server and headless Chromium; yields a Browser. Raises FileNotFoundError
    naming what is missing (Chromium, the runtime) before starting anything."""
    chromium = require_chromium()
    build_dir = require_runtime(build_dir)
    app = testing_app(build_dir)
    with serve_app(app) as url:
        context = launch_chromium(playwright, profile_dir)
        try:
            yield Browser(url, app, context, chromium)
        finally:
            context.close()
