// Builds what lets the tab's worker start in about a second (web/boot_snapshot.js reads them):
//
//   build/pyodide/webkeras-boot.snapshot  a memory snapshot of the bare Pyodide interpreter with
//                                         the standard-library modules numpy and webkeras import
//                                         already imported (Pyodide 0.27.7's private
//                                         _makeSnapshot; a snapshot holding numpy does not
//                                         restore, so packages are loaded after the restore)
//   build/pyodide/webkeras-pycache.zip    bytecode (.pyc, unchecked-hash) for numpy, pyyaml and
//                                         webkeras: the wheels ship sources only, and compiling
//                                         them at each import costs the tab about a second
//   build/pyodide/webkeras-boot.json      the manifest: the files' sizes and sha256, the Pyodide
//                                         build id, and the sha256 of each wheel the bytecode
//                                         was compiled from (the worker uses it only when the
//                                         lock's wheels are those)
//
// Made here in node with the same pyodide.asm.wasm the browser runs.
//   node scripts/make_boot_snapshot.mjs
import { loadPyodide } from "../build/pyodide/pyodide.mjs";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const indexURL = path.join(root, "build", "pyodide") + path.sep;
const PACKAGES = ["numpy", "pyyaml", "webkeras"];
const PYCACHE_PACKAGES = ["numpy", "yaml", "webkeras"]; // import names, under site-packages
const SNAPSHOT = "webkeras-boot.snapshot";
const PYCACHE = "webkeras-pycache.zip";
const MANIFEST = "webkeras-boot.json";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const quiet = { messageCallback: () => {} };

/** Loads PACKAGES (by name: sha256-checked against the lock) or throws. */
async function loadPackages(pyodide) {
  const errors = [];
  await pyodide.loadPackage(PACKAGES, { ...quiet, errorCallback: (m) => errors.push(m) });
  if (errors.length) throw new Error(`loadPackage failed: ${errors.join("; ")}`);
}

// 1. A normal interpreter imports the packages: which standard-library modules they pull in,
//    and their bytecode.
const full = await loadPyodide({ indexURL, ...quiet });
await loadPackages(full);
const stdlibModules = JSON.parse(full.runPython(`
import json, sys
before = set(sys.modules)
import numpy, yaml, webkeras
from webkeras.backend.numpy import wasm_kernels
wasm_kernels.kernels()
json.dumps(sorted(name for name in set(sys.modules) - before
                  if name.partition(".")[0] in sys.stdlib_module_names))
`));
full.runPython(`
import compileall, os, py_compile, sys, zipfile
site = "/lib/python3.12/site-packages"
with zipfile.ZipFile("/tmp/pycache.zip", "w", zipfile.ZIP_DEFLATED) as archive:
    for package in ${JSON.stringify(PYCACHE_PACKAGES)}:
        compileall.compile_dir(f"{site}/{package}", quiet=2, workers=1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        for folder, _, files in sorted(os.walk(f"{site}/{package}")):
            for name in sorted(files):
                if name.endswith(".pyc"):
                    path = os.path.join(folder, name)
                    info = zipfile.ZipInfo(os.path.relpath(path, site), (1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    with open(path, "rb") as f:
                        archive.writestr(info, f.read())
`);
const pycache = full.FS.readFile("/tmp/pycache.zip");
const lock = JSON.parse(fs.readFileSync(path.join(indexURL, "pyodide-lock.json"), "utf8"));

// 2. The snapshot: a bare interpreter with those standard-library modules imported. `random`
//    seeds itself at import, so the worker reseeds it after a restore.
const bare = await loadPyodide({ indexURL, _makeSnapshot: true, ...quiet });
bare.runPython(`import importlib\nfor name in ${JSON.stringify(stdlibModules)}:\n` +
  "    importlib.import_module(name)\n");
const snapshot = bare.makeMemorySnapshot();

// 3. It must restore: a fresh interpreter from it imports numpy with the bytecode.
const restored = await loadPyodide({ indexURL, _loadSnapshot: snapshot, ...quiet });
await loadPackages(restored);
restored.unpackArchive(pycache, "zip", { extractDir: "/lib/python3.12/site-packages" });
const check = restored.runPython(`
import numpy, webkeras
from webkeras.backend.numpy import wasm_kernels
a = numpy.arange(6, dtype="float32").reshape(2, 3)
str(numpy.array_equal(wasm_kernels.kernels().sgemm(a, a, transpose_b=True), a @ a.T))`);
if (check !== "True") throw new Error(`the restored snapshot misbehaves (${check})`);

const manifest = {
  pyodide: lock.info.version,
  buildId: bare._api.config.BUILD_ID,
  snapshot: { file: SNAPSHOT, size: snapshot.length, sha256: sha256(snapshot) },
  pycache: {
    file: PYCACHE, size: pycache.length, sha256: sha256(pycache),
    wheels: Object.fromEntries(PACKAGES.map((name) => [name,
      { file: lock.packages[name].file_name, sha256: lock.packages[name].sha256 }])),
  },
  stdlibModules,
};
fs.writeFileSync(path.join(indexURL, SNAPSHOT), snapshot);
fs.writeFileSync(path.join(indexURL, PYCACHE), pycache);
fs.writeFileSync(path.join(indexURL, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
console.log(`boot snapshot: ${(snapshot.length / 1e6).toFixed(1)} MB, ` +
  `${stdlibModules.length} standard-library modules imported; ` +
  `bytecode: ${(pycache.length / 1e6).toFixed(1)} MB`);
