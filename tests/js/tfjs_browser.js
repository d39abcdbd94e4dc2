// Injected by tests/test_browser_tfjs.py into a page that already has tf.min.js and the webgpu
// and wasm backends: loads a TF.js layers model over HTTP and predicts with the asked backend.
"use strict";

window.tfjsTest = {
  async useBackend(name) {
    if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} did not start`);
    await tf.ready();
    return tf.getBackend();
  },

  // inputs: [{shape, dtype, data}] (one per model input). Reads back with `await data()`:
  // on SwiftShader, webgpu's dataSync() returns zeros and loses the device.
  async predict(url, backend, inputs) {
    const used = await this.useBackend(backend);
    const model = await tf.loadLayersModel(url);
    const xs = inputs.map((x) => tf.tensor(x.data, x.shape, x.dtype));
    const ys = [model.predict(xs.length === 1 ? xs[0] : xs)].flat();
    const outputs = [];
    for (const y of ys) outputs.push({ shape: y.shape, data: Array.from(await y.data()) });
    tf.dispose([...xs, ...ys]);
    model.dispose();
    return { backend: used, outputs };
  },

  // TF.js 4.22 checks the HTTP status of model.json but not of weight shards: it would
  // decode a 404 page as weights. A fetch that rejects non-2xx responses closes that gap.
  async strictFetch(url, init) {
    const response = await fetch(url, init);
    if (!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}: ${await response.text()}`);
    }
    return response;
  },

  // The rejection message of tf.loadLayersModel(url), or null when it loads.
  async loadError(url, strict) {
    await this.useBackend("cpu");
    const options = strict ? { fetchFunc: (u, init) => this.strictFetch(u, init) } : {};
    try {
      (await tf.loadLayersModel(url, options)).dispose();
      return null;
    } catch (error) {
      return String(error && error.message ? error.message : error);
    }
  },

  async fetchStatus(url) {
    const response = await fetch(url);
    return { status: response.status, type: response.headers.get("content-type"),
             body: await response.text() };
  },
};
