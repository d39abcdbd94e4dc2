// The worker scripts/make_boot_snapshot.py runs in headless Chromium: it makes what the tab's
// worker restores (web/boot_snapshot.js) and posts it back as
// {snapshot, pycache: {package: zip bytes}, stdlibModules, buildId}.
//
// In the browser, not in node: the interpreter records at start-up how it can stack switch
// (JSPI, for run_sync), and a snapshot keeps that; node's JSPI is another API.
import { loadPyodide } from "/pyodide/pyodide.mjs";

const indexURL = new URL("/pyodide/", self.location.origin).href;
const SITE = "/lib/python3.12/site-packages";
const IMPORT_NAMES = { numpy: "numpy", pyyaml: "yaml", webkeras: "webkeras" };
const PACKAGES = Object.keys(IMPORT_NAMES);
const quiet = { messageCallback: () => {} };

/** Loads PACKAGES (by name: sha256-checked against the lock) or throws. */
async function loadPackages(pyodide) {
  const errors = [];
  await pyodide.loadPackage(PACKAGES, { ...quiet, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`loadPackage failed: ${errors.join("; ")}`);
}

async function make() {
  // 1. A normal interpreter imports the packages: which standard-library modules they pull
  //    in, and their bytecode (unchecked-hash .pyc, one zip per package).
  const full = await loadPyodide({ indexURL, ...quiet });
  // What a bare interpreter has imported: the tab's worker imports everything else after the
  // restore (the package loader's modules included).
  full.runPython("import sys\nbare_modules = set(sys.modules)");
  await loadPackages(full);
  const stdlibModules = JSON.parse(full.runPython(`
import json, sys
import numpy, yaml, webkeras
from webkeras.backend.numpy import wasm_kernels
wasm_kernels.kernels()
json.dumps(sorted(name for name in set(sys.modules) - bare_modules
                  if name.partition(".")[0] in sys.stdlib_module_names))
`));
  full.runPython(`
import compileall, os, py_compile, zipfile
for package in ${JSON.stringify(Object.values(IMPORT_NAMES))}:
    compileall.compile_dir(f"${SITE}/{package}", quiet=2, workers=1,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    with zipfile.ZipFile(f"/tmp/{package}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _, files in sorted(os.walk(f"${SITE}/{package}")):
            for name in sorted(f for f in files if f.endswith(".pyc")):
                path = os.path.join(folder, name)
                info = zipfile.ZipInfo(os.path.relpath(path, "${SITE}"), (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    archive.writestr(info, f.read())
`);
  const pycache = Object.fromEntries(PACKAGES.map(
    (name) => [name, full.FS.readFile(`/tmp/${IMPORT_NAMES[name]}.zip`)]));

  // 2. The snapshot: a bare interpreter with those modules imported. `random` seeds itself at
  //    import, so the tab's worker reseeds it after a restore.
  const bare = await loadPyodide({ indexURL, _makeSnapshot: true, ...quiet });
  if (!bare._module.jspiSupported) throw new Error("this browser has no stack switching (JSPI)");
  bare.runPython(`import importlib\nfor name in ${JSON.stringify(stdlibModules)}:\n` +
    "    importlib.import_module(name)\n");
  const snapshot = bare.makeMemorySnapshot();

  // 3. It must restore: numpy and webkeras import with the bytecode, the kernels run and
  //    run_sync (WebGPU readback) works.
  const restored = await loadPyodide({ indexURL, _loadSnapshot: snapshot.slice(), ...quiet });
  await loadPackages(restored);
  for (const bytes of Object.values(pycache)) {
    restored.unpackArchive(bytes, "zip", { extractDir: SITE });
  }
  const check = await restored.runPythonAsync(`
import js, numpy, webkeras
from pyodide.ffi import run_sync
from webkeras.backend.numpy import wasm_kernels
a = numpy.arange(6, dtype="float32").reshape(2, 3)
assert run_sync(js.Promise.resolve(7)) == 7
str(numpy.array_equal(wasm_kernels.kernels().sgemm(a, a, transpose_b=True), a @ a.T))`);
  if (check !== "True") throw new Error(`the restored snapshot misbehaves (${check})`);
  return { snapshot, pycache, stdlibModules, buildId: bare._api.config.BUILD_ID };
}

make().then(
  (result) => self.postMessage(result),
  (error) => self.postMessage({ error: String(error && error.stack || error) }));
