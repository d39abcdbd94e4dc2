// Builds small TF.js models, saves each as TF.js itself writes it (model.json + one shard)
// and records its prediction, so webkeras's reader can be checked against real TF.js output.
//   node tests/js/save_model.mjs OUT_DIR     -> OUT_DIR/<name>/{model.json, group1-shard1of1.bin}
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";

await tf.setBackend("cpu");
const out = process.argv[2];

function mlp() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [6], units: 8, activation: "relu" }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.dense({ units: 3, activation: "softmax" }));
  return [m, tf.randomUniform([4, 6], 0, 1, "float32", 1)];
}

function cnnLstm() {
  const input = tf.input({ shape: [5, 4] });
  // TF.js's default recurrentActivation is hardSigmoid = 0.2x + 0.5 (tf.keras 2's), while
  // Keras 3's hard_sigmoid is x / 6 + 0.5: the names mean different functions.
  const lstm = tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: "sigmoid" }).apply(input);
  const conv = tf.layers.conv1d({ filters: 2, kernelSize: 2, activation: "tanh" }).apply(lstm);
  const flat = tf.layers.flatten().apply(conv);
  const m = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(flat) });
  return [m, tf.randomUniform([2, 5, 4], 0, 1, "float32", 2)];
}

function nested() {
  // A model (called twice) and a Sequential inside a model: TF.js counts their calls from
  // node 1 and names their weights by their own layers' names (`dense_Dense3/kernel`).
  const innerIn = tf.input({ shape: [4] });
  const inner = tf.model({
    inputs: innerIn, outputs: tf.layers.dense({ units: 3, activation: "tanh" }).apply(innerIn),
    name: "inner",
  });
  const seq = tf.sequential({
    name: "seq", layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: "relu" })],
  });
  const input = tf.input({ shape: [4] });
  const hidden = tf.layers.dense({ units: 4, activation: "tanh" }).apply(input);
  const merged = tf.layers.concatenate().apply([inner.apply(hidden), inner.apply(input), seq.apply(hidden)]);
  const m = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(merged) });
  return [m, tf.randomUniform([3, 4], 0, 1, "float32", 3)];
}

for (const [name, build] of [["mlp", mlp], ["cnn_lstm", cnnLstm], ["nested", nested]]) {
  const [model, x] = build();
  // Non-trivial BatchNormalization statistics.
  for (const layer of model.layers) {
    if (layer.getClassName() === "BatchNormalization") {
      layer.setWeights(layer.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, "float32", i)));
    }
  }
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = {
      modelTopology: artifacts.modelTopology, format: artifacts.format,
      generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: artifacts.weightSpecs }],
    };
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
    writeFileSync(join(dir, "group1-shard1of1.bin"), Buffer.from(artifacts.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  writeFileSync(join(dir, "io.json"), JSON.stringify({
    input: { shape: x.shape, data: Array.from(await x.data()) },
    output: { shape: model.predict(x).shape, data: Array.from(await model.predict(x).data()) },
  }));
}
