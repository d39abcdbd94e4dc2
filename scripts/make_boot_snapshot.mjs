// Builds what lets the tab's worker start in about a second (web/boot_snapshot.js reads them):
//
//   build/pyodide/webkeras-boot.snapshot  a memory snapshot of the bare Pyodide interpreter with
//                                         the standard-library modules numpy and webkeras import
//                                         already imported (Pyodide 0.27.7's private
//                                         _makeSnapshot; a snapshot holding numpy does not
//                                         restore, so packages are loaded after the restore)
//   build/pyodide/webkeras-pycache-*.zip  bytecode (.pyc, unchecked-hash) for numpy, pyyaml and
//                                         webkeras, one zip each: the wheels ship sources only,
//                                         and compiling them at each import costs the tab ~1 s
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
const IMPORT_NAMES = { numpy: "numpy", pyyaml: "yaml", webkeras: "webkeras" }; // in site-packages
const SNAPSHOT = "webkeras-boot.snapshot";
const pycacheFile = (name) => `webkeras-pycache-${name}.zip`;
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
const site = "/lib/python3.12/site-packages";
full.runPython(`
import compileall, os, py_compile, zipfile
for package in ${JSON.stringify(Object.values(IMPORT_NAMES))}:
    compileall.compile_dir(f"${site}/{package}", quiet=2, workers=1,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    with zipfile.ZipFile(f"/tmp/{package}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, _, files in sorted(os.walk(f"${site}/{package}")):
            for name in sorted(f for f in files if f.endswith(".pyc")):
                path = os.path.join(folder, name)
                info = zipfile.ZipInfo(os.path.relpath(path, "${site}"), (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    archive.writestr(info, f.read())
`);
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
const pycache = Object.fromEntries(PACKAGES.map(
  (name) => [name, full.FS.readFile(`/tmp/${IMPORT_NAMES[name]}.zip`)]));
for (const bytes of Object.values(pycache)) {
  restored.unpackArchive(bytes, "zip", { extractDir: site });
}
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
  // Per package: a rebuilt webkeras wheel leaves numpy's bytecode usable.
  pycache: PACKAGES.map((name) => ({
    package: name, file: pycacheFile(name), size: pycache[name].length,
    sha256: sha256(pycache[name]),
    wheel: { file: lock.packages[name].file_name, sha256: lock.packages[name].sha256 },
  })),
  stdlibModules,
};
fs.writeFileSync(path.join(indexURL, SNAPSHOT), snapshot);
for (const name of PACKAGES) {
  fs.writeFileSync(path.join(indexURL, pycacheFile(name)), pycache[name]);
}
fs.writeFileSync(path.join(indexURL, MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
console.log(`boot snapshot: ${(snapshot.length / 1e6).toFixed(1)} MB, ` +
  `${stdlibModules.length} standard-library modules imported; ` +
  `bytecode: ${PACKAGES.map((name) => `${name} ${(pycache[name].length / 1e6).toFixed(1)} MB`).join(", ")}`);
