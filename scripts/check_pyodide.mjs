// Smoke test of build/pyodide in node (offline): Pyodide boots, numpy loads from the local
// wheel, webkeras loads by name through build/pyodide/pyodide-lock.json (sha256-checked), and
// its WASM SIMD kernels (kernels/wasm/) open and multiply, and PyYAML (its dependency, built pure)
// writes and reads a model's YAML.
//   node scripts/check_pyodide.mjs
import { loadPyodide } from "../build/pyodide/pyodide.mjs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const indexURL = path.join(root, "build", "pyodide") + path.sep;
const errors = [];
const t0 = Date.now();
const pyodide = await loadPyodide({ indexURL });
const t1 = Date.now();
const opts = { messageCallback: () => {}, errorCallback: (m) => errors.push(m) };
await pyodide.loadPackage(path.join(indexURL, "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"), opts);
await pyodide.loadPackage("webkeras", opts);
if (errors.length) throw new Error("loadPackage errors: " + errors.join("; "));
const out = pyodide.runPython(`
import sys, numpy, webkeras
from webkeras.backend.numpy import wasm_kernels
a = numpy.arange(6, dtype="float32").reshape(2, 3)
k = wasm_kernels.kernels()
assert k is not None, "the WASM SIMD kernels did not load"
assert numpy.array_equal(k.sgemm(a, a, transpose_b=True), a @ a.T)
model = webkeras.Sequential([webkeras.Input((3,)), webkeras.layers.Dense(2)])
assert webkeras.models.model_from_yaml(model.to_yaml()).to_yaml() == model.to_yaml()
f"python {sys.version.split()[0]}, numpy {numpy.__version__}, sum {float((a @ a.T).sum())}, webkeras at {webkeras.__path__[0]}, kernels {k.variant}"
`);
console.log(`pyodide ok in ${t1 - t0} ms: ${out}`);
