// Dataset files for the worker's Python (webkeras.datasets.fetch), kept across page loads.
//
// Python calls, through pyodide.ffi.run_sync:
//   webkerasDatasets.text(url)                            -> the body of a small file (the .sha256)
//   webkerasDatasets.load(url, path, name, sha256, force) -> {source, verified, bytes}
// (keras.utils.get_file downloads through load() too.)
// load() writes the file into Pyodide's filesystem at `path`. It looks in Cache Storage first
// (unless `force`); an entry whose sha256 does not match is dropped and downloaded again. A
// download streams, posting {type: "dataset", name, loaded, total, source, done} to the page
// as it goes, and is put in Cache Storage only after its sha256 matched. Without Cache Storage
// or Web Crypto (pages served over plain http from another host are not a secure context) the
// file is downloaded on each load and Python checks the hash itself (verified: false).

const CACHE_NAME = "webkeras-datasets-v1";
const PROGRESS_INTERVAL_MS = 100;

async function errorMessage(response) {
  const body = await response.text();
  try {
    return JSON.parse(body).message || body;
  } catch {
    return body;
  }
}

/** A failed GET, with `status` and `statusText` for Python (a JsException proxies them). */
async function httpError(url, response) {
  const error = new Error(`GET ${url} -> ${response.status}: ${await errorMessage(response)}`);
  error.status = response.status;
  error.statusText = response.statusText;
  return error;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class DatasetCache {
  /**
   * @param {(type: string, payload: object) => void} post  message to the page
   * @param {() => object} fs  Pyodide's FS (asked for lazily: Pyodide boots after this)
   */
  constructor(post, fs) {
    this.post = post;
    this.fs = fs;
    this.stats = { cacheHits: 0, downloads: 0, dropped: 0 };
  }

  async openCache() {
    try {
      return self.caches ? await self.caches.open(CACHE_NAME) : null;
    } catch (error) {
      console.warn("webkeras: Cache Storage unavailable, datasets will not be kept", error);
      return null;
    }
  }

  async sha256(bytes) {
    if (!self.crypto?.subtle) return null;
    return hex(await self.crypto.subtle.digest("SHA-256", bytes));
  }

  async text(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw await httpError(url, response);
    return response.text();
  }

  async load(url, path, name, expected, force = false) {
    const cache = await this.openCache();
    let source = "cache";
    let bytes = null;
    let verified = false;
    const hit = cache && !force && (await cache.match(url));
    if (hit) {
      bytes = new Uint8Array(await hit.arrayBuffer());
      const actual = expected ? await this.sha256(bytes) : null;
      if (actual !== null && actual !== expected) {
        // Truncated, corrupted or an older version: never used, fetched again.
        console.warn(`webkeras: cached ${name} has sha256 ${actual}, expected ${expected}`);
        await cache.delete(url);
        this.stats.dropped++;
        bytes = null;
      } else {
        verified = actual !== null;
        this.stats.cacheHits++;
      }
    }
    if (!bytes) {
      source = "network";
      bytes = await this.download(url, name);
      this.stats.downloads++;
      const actual = expected ? await this.sha256(bytes) : null;
      if (actual !== null && actual !== expected) {
        const error = new Error(
          `Dataset file ${name} from ${url} is corrupted: sha256 ${actual}, ` +
            `expected ${expected}. ` +
            "Run `make setup` where the server runs to rebuild it.",
        );
        error.name = "IntegrityError"; // so Python can tell it from a failed download
        error.actual = actual;
        throw error;
      }
      verified = actual !== null;
      if (cache && verified) {
        const headers = {
          "Content-Type": "application/octet-stream",
          "Content-Length": `${bytes.length}`,
        };
        await cache.put(url, new Response(bytes, { headers }));
      }
    }
    this.post("dataset", { name, source, loaded: bytes.length, total: bytes.length, done: true });
    const fs = this.fs();
    fs.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    fs.writeFile(path, bytes);
    return { source, verified, bytes: bytes.length };
  }

  /** GET url as bytes, streaming, with progress messages to the page. */
  async download(url, name) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw await httpError(url, response);
    // Gzipped responses give the compressed Content-Length; the server adds the real size.
    const total = Number(response.headers.get("X-Uncompressed-Length") ||
      (response.headers.get("Content-Encoding") ? 0 : response.headers.get("Content-Length")) || 0);
    const chunks = [];
    let loaded = 0;
    let last = 0;
    const reader = response.body.getReader();
    this.post("dataset", { name, source: "network", loaded, total, done: false });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      const now = performance.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        this.post("dataset", { name, source: "network", loaded, total, done: false });
      }
    }
    const bytes = new Uint8Array(loaded);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }
}
