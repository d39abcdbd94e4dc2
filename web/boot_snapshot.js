// Starting Pyodide in about a second (web/worker.js's boot): what `make setup` prepared with
// scripts/make_boot_snapshot.py (in Chromium), listed in /pyodide/webkeras-boot.json:
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
// Pyodide's own test (stack_switching): the old and the new JSPI API.
const JSPI = "Suspending" in WebAssembly || "Suspender" in WebAssembly;

/** The body, or an error with `missing` set (the server has no such file, or no answer). */
async function fetchBytes(url) {
  const response = await fetch(url).catch((error) => ({ error }));
  if (!response.ok) {
    const error = new Error(`GET ${url} -> ${response.status || response.error.message}`);
    throw Object.assign(error, { missing: true });
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function checkedBytes(url, { size, sha256 }) {
  const bytes = await fetchBytes(url);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (bytes.length !== size || hex !== sha256) {
    throw new Error(`${url} is damaged: ${bytes.length} bytes, sha256 ${hex}; the manifest ` +
      `says ${size} bytes, sha256 ${sha256}`);
  }
  return bytes;
}

/**
 * Starts every download the boot needs: the manifest, then the snapshot, the bytecode and the
 * wheels (into the HTTP cache, where loadPackage finds them). Never rejects: a promise that
 * fails resolves to {error}.
 */
export function startBootDownloads(indexURL) {
  const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
  const manifest = fetchBytes(indexURL + MANIFEST)
    .then((bytes) => JSON.parse(new TextDecoder().decode(bytes)));
  const snapshot = manifest.then((m) => checkedBytes(indexURL + m.snapshot.file, m.snapshot));
  const bytecode = manifest.then((m) => m.pycache.map((entry) => {
    fetch(indexURL + entry.wheel.file).then((r) => r.arrayBuffer()).catch(() => {});
    return { ...entry, bytes: settle(checkedBytes(indexURL + entry.file, entry)) };
  }));
  return { manifest: settle(manifest), snapshot: settle(snapshot), bytecode: settle(bytecode) };
}

/**
 * The interpreter, restored from the snapshot when it can be, else booted normally.
 * Resolves to {pyodide, snapshot: true | false, note} (note: why not, for the console).
 */
export async function startInterpreter(indexURL, downloads) {
  // A promise: Pyodide loads its JS and starts fetching its wasm while the snapshot arrives.
  const snapshot = Promise.all([downloads.manifest, downloads.snapshot]).then(
    ([{ value: manifest }, { value, error }]) => {
      if (!value) throw error;
      // The interpreter records at start-up whether it can stack switch (run_sync).
      if (manifest.jspi && !JSPI) throw new Error("it needs stack switching (JSPI)");
      return value;
    });
  try {
    const pyodide = await loadPyodide({ indexURL, _loadSnapshot: snapshot });
    // The snapshot's `random` was seeded when it was made: every restore would repeat it.
    pyodide.runPython("import random\nrandom.seed()");
    return { pyodide, snapshot: true, note: null };
  } catch (error) {
    const note = error.missing ? `no boot snapshot (${error.message}); run \`make setup\``
      : `the boot snapshot was not used (${error.message || error})`;
    return { pyodide: await loadPyodide({ indexURL }), snapshot: false, note };
  }
}

/**
 * Unpacks the bytecode of each loaded package whose wheel in the lock is the one it was
 * compiled from (unchecked-hash .pyc: Python would not notice another source). Resolves to
 * {packages: the names installed, notes: why others were not}.
 */
export async function installBytecode(pyodide, downloads) {
  const { value: entries, error } = await downloads.bytecode;
  if (!entries) return { packages: [], notes: [`no bytecode (${error.message})`] };
  const lock = pyodide._api.lockfile_packages;
  const packages = [];
  const notes = [];
  for (const entry of entries) {
    const { value: bytes, error: fetchError } = await entry.bytes;
    if (lock[entry.package]?.sha256 !== entry.wheel.sha256) {
      notes.push(`the ${entry.package} bytecode is for another wheel (run \`make wheel\`)`);
    } else if (!bytes) notes.push(`no ${entry.package} bytecode (${fetchError.message})`);
    else {
      pyodide.unpackArchive(bytes, "zip", { extractDir: SITE_PACKAGES });
      packages.push(entry.package);
    }
  }
  return { packages, notes };
}
