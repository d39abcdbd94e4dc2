// Loads a TF.js layers model written to a directory and prints its prediction as JSON.
//   node tests/js/load_predict.mjs MODEL_DIR INPUTS_JSON
// INPUTS_JSON: [{"shape": [...], "dtype": "float32", "data": [...]}, ...] (one per model input).
// Node cannot fetch file:// URLs, so model.json and its shards are read here and handed to
// tf.io.fromMemory, as ENVIRONMENT.md describes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";

const [dir, inputsPath] = process.argv.slice(2);
const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
const specs = [];
const buffers = [];
for (const group of modelJson.weightsManifest) {
  specs.push(...group.weights);
  for (const path of group.paths) buffers.push(readFileSync(join(dir, path)));
}
const joined = Buffer.concat(buffers);
const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.length);

await tf.setBackend("cpu");
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology,
  weightSpecs: specs,
  weightData,
  format: modelJson.format,
  generatedBy: modelJson.generatedBy,
  convertedBy: modelJson.convertedBy,
}));
const inputs = JSON.parse(readFileSync(inputsPath, "utf8"))
  .map((x) => tf.tensor(x.data, x.shape, x.dtype));
const output = model.predict(inputs.length === 1 ? inputs[0] : inputs);
const outputs = Array.isArray(output) ? output : [output];
const result = [];
for (const y of outputs) result.push({ shape: y.shape, data: Array.from(await y.data()) });
process.stdout.write(JSON.stringify({ outputs: result, weights: specs.length }));
