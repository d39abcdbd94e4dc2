// Starting Pyodide in about a second (web/worker.js's boot): what `make setup` prepared with
// scripts/make_boot_snapshot.mjs, listed in /pyodide/webkeras-boot.json:
//   - a memory snapshot of the bare interpreter (standard-library modules numpy and webkeras
//     need already imported): restoring it skips Python's start-up. Pyodide 0.27.7's private
//     `loadPyodide({_loadSnapshot})`; when it does not restore (missing, damaged, another
//     Pyodide build), the worker boots normally and says so on the console.
//   - bytecode for numpy, pyyaml and webkeras (their wheels ship sources only), unpacked beside
//     them when the lock's wheels are the ones it was compiled from.
// Every download starts at once, in parallel with the runtime's own (the wheels included), and
// every file is served with an ETag: a second visit revalidates and downloads nothing.

import { loadPyodide } from "/pyodide/pyodide.mjs";

const MANIFEST = "webkeras-boot.json";
const SITE_PACKAGES = "/lib/python3.12/site-packages";

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} -> ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function checkedBytes(url, { size, sha256 }) {
  const bytes = await fetchBytes(url);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (bytes.length !== size || hex !== sha256) {
    throw new Error(`${url}: ${bytes.length} bytes, sha256 ${hex}; the manifest says ` +
      `${size} bytes, sha256 ${sha256}`);
  }
  return bytes;
}

/**
 * Starts every download the boot needs: the manifest, then the snapshot, the bytecode and the
 * wheels (into the HTTP cache, where loadPackage finds them). Never rejects: a promise that
 * fails resolves to {error}.
 */
export function startBootDownloads(indexURL) {
  const manifest = fetchBytes(indexURL + MANIFEST)
    .then((bytes) => JSON.parse(new TextDecoder().decode(bytes)));
  const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
  const snapshot = manifest.then((m) => checkedBytes(indexURL + m.snapshot.file, m.snapshot));
  const bytecode = manifest.then((m) => checkedBytes(indexURL + m.pycache.file, m.pycache));
  manifest.then((m) => {
    for (const { file } of Object.values(m.pycache.wheels)) {
      fetch(indexURL + file).then((r) => r.arrayBuffer()).catch(() => {});
    }
  }, () => {});
  return { manifest: settle(manifest), snapshot: settle(snapshot), bytecode: settle(bytecode) };
}

/**
 * The interpreter, restored from the snapshot when it can be, else booted normally.
 * Resolves to {pyodide, snapshot: true | false, note} (note: why not, for the console).
 */
export async function startInterpreter(indexURL, downloads) {
  // A promise: Pyodide loads its JS and starts fetching its wasm while the snapshot arrives.
  const snapshot = downloads.snapshot.then(({ value, error }) => value || Promise.reject(error));
  try {
    const pyodide = await loadPyodide({ indexURL, _loadSnapshot: snapshot });
    // The snapshot's `random` was seeded when it was made: every restore would repeat it.
    pyodide.runPython("import random\nrandom.seed()");
    return { pyodide, snapshot: true, note: null };
  } catch (error) {
    const { value } = await downloads.snapshot;
    const note = value ? `the boot snapshot did not restore (${error.message || error})`
      : `no boot snapshot (${error.message || error}); run \`make setup\``;
    return { pyodide: await loadPyodide({ indexURL }), snapshot: false, note };
  }
}

/**
 * Unpacks the bytecode for the loaded packages when the lock's wheels are the ones it was
 * compiled from (it is unchecked-hash .pyc: Python would not notice a different source).
 * Resolves to true when installed, else to the reason it was not.
 */
export async function installBytecode(pyodide, downloads) {
  const [{ value: manifest }, { value: bytes, error }] =
    await Promise.all([downloads.manifest, downloads.bytecode]);
  if (!bytes) return `no bytecode (${error.message})`;
  const lock = pyodide._api.lockfile_packages;
  for (const [name, { sha256 }] of Object.entries(manifest.pycache.wheels)) {
    if (lock[name]?.sha256 !== sha256) {
      return `the bytecode was compiled from another ${name} wheel; run \`make setup\``;
    }
  }
  pyodide.unpackArchive(bytes, "zip", { extractDir: SITE_PACKAGES });
  return true;
}
