// Downloads a model's files for the worker (web/worker.js): a TF.js model.json and its shards,
// or one .keras / .h5 file. Needs no Pyodide, so it runs while the runtime boots.

async function fetchOK(url) {
  const response = await fetch(url);
  if (!response.ok) {
    let message = await response.text();
    try {
      message = JSON.parse(message).message || message;
    } catch {}
    throw new Error(`GET ${url} -> HTTP ${response.status}: ${message.slice(0, 300)}`);
  }
  return response;
}

/** The body as bytes, calling progress(bytesSoFar) as chunks arrive. */
async function readBody(response, progress) {
  const chunks = [];
  let size = 0;
  for (const reader = response.body.getReader(); ; ) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    progress(size);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) bytes.set(chunk, offset), (offset += chunk.length);
  return bytes;
}

/** Shard paths from model.json, refused when they would leave the model's folder. */
function shardPaths(modelJson, url) {
  let artifact;
  try {
    artifact = JSON.parse(new TextDecoder().decode(modelJson));
  } catch (error) {
    throw new Error(`${url} is not valid JSON: ${error.message}`);
  }
  const groups = artifact && artifact.weightsManifest;
  if (!Array.isArray(groups)) {
    throw new Error(`${url}: no "weightsManifest" list; expected a TF.js layers model.json.`);
  }
  const paths = groups.flatMap((group) => group.paths || []);
  for (const path of paths) {
    if (typeof path !== "string" || path.startsWith("/") || path.split("/").includes("..")) {
      throw new Error(`${url}: weight shard path ${JSON.stringify(path)} leaves the model's folder.`);
    }
  }
  return paths;
}

/**
 * The model's files as [[relative path, bytes]], main file first.
 * progress(stage, loaded, total) is called as bytes arrive.
 */
export async function downloadModel(url, progress) {
  const modelURL = new URL(url, self.location.origin);
  const name = decodeURIComponent(modelURL.pathname.split("/").pop()) || "model.json";
  const first = await fetchOK(modelURL);
  const firstTotal = Number(first.headers.get("Content-Length")) || 0;
  const firstBytes = await readBody(first, (n) => progress("download", n, firstTotal));
  if (!name.endsWith(".json")) {
    // A single-file model: .keras, .h5
    if (!/\.(keras|h5|hdf5)$/.test(name)) {
      throw new Error(`${url}: expected a TF.js model.json, a .keras or an .h5 file.`);
    }
    return [[name, firstBytes]];
  }
  const paths = shardPaths(firstBytes, url);
  // Start every shard at once; progress counts the bytes of all of them.
  const loaded = new Array(paths.length).fill(0);
  const sizes = new Array(paths.length).fill(0);
  const done = firstBytes.length;
  const report = () => {
    const total = sizes.every(Boolean) ? done + sizes.reduce((a, b) => a + b, 0) : 0;
    progress("download", done + loaded.reduce((a, b) => a + b, 0), total);
  };
  const shards = await Promise.all(paths.map(async (path, i) => {
    const response = await fetchOK(new URL(path, modelURL));
    sizes[i] = Number(response.headers.get("Content-Length")) || 0;
    return readBody(response, (n) => ((loaded[i] = n), report()));
  }));
  return [["model.json", firstBytes], ...paths.map((path, i) => [path, shards[i]])];
}
