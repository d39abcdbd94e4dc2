"""Write training_reference.npz: losses, metrics and optimizers as real Keras 3 computes them.

Run with real Keras (the peers venv):
    KERAS_BACKEND=jax .venv-peers/bin/python tests/reference/make_training_reference.py

Each case is stored as `<case>/<array>` entries plus a JSON spec under `<case>/spec` that says
which class to build with which config; tests/test_{losses,metrics,optimizers}.py replay
every case through webkeras's public API.
"""

import json
import os

import numpy as np

import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training_reference.npz")
rng = np.random.default_rng(1234)
arrays = {}


def f32(x):
    return np.asarray(x, dtype=np.float32)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def put(case, spec, **values):
    arrays[f"{case}/spec"] = np.array(json.dumps(spec))
    for key, value in values.items():
        arrays[f"{case}/{key}"] = np.asarray(value)


# -- inputs ------------------------------------------------------------------------------------
B, C = 6, 5
regression = (f32(rng.uniform(-2, 2, (B, 4))), f32(rng.uniform(-2, 2, (B, 4))))
positive = (f32(rng.uniform(0.1, 3, (B, 4))), f32(rng.uniform(0.1, 3, (B, 4))))
probabilities = (f32(softmax(rng.normal(size=(B, C)))), f32(softmax(rng.normal(size=(B, C)))))
binary = (f32(rng.integers(0, 2, (B, 4))), f32(rng.uniform(0.02, 0.98, (B, 4))))
binary_logits = (binary[0], f32(rng.normal(0, 2, (B, 4))))
signed = (f32(rng.choice([-1.0, 1.0], (B, 4))), f32(rng.uniform(-2, 2, (B, 4))))
labels = rng.integers(0, C, B).astype(np.int32)
one_hot = f32(np.eye(C)[labels])
class_probs = f32(softmax(rng.normal(0, 2, (B, C))))
class_logits = f32(rng.normal(0, 2, (B, C)))
sample_weight = f32(rng.uniform(0.2, 2.0, B))

# -- losses ------------------------------------------------------------------------------------
LOSS_CASES = [
    ("MeanSquaredError", {}, regression),
    ("MeanAbsoluteError", {}, regression),
    ("MeanAbsolutePercentageError", {}, regression),
    ("MeanSquaredLogarithmicError", {}, positive),
    ("Huber", {}, regression),
    ("Huber", {"delta": 0.5}, regression),
    ("LogCosh", {}, regression),
    ("CosineSimilarity", {}, regression),
    ("Poisson", {}, positive),
    ("KLDivergence", {}, probabilities),
    ("Hinge", {}, binary_logits),
    ("Hinge", {}, signed),
    ("SquaredHinge", {}, binary_logits),
    ("SquaredHinge", {}, signed),
    ("CategoricalHinge", {}, (one_hot, class_logits)),
    ("BinaryCrossentropy", {}, binary),
    ("BinaryCrossentropy", {"from_logits": True}, binary_logits),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, binary),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, binary_logits),
    ("CategoricalCrossentropy", {}, (one_hot, class_probs)),
    ("CategoricalCrossentropy", {"from_logits": True}, (one_hot, class_logits)),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, (one_hot, class_probs)),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
     (one_hot, class_logits)),
    ("SparseCategoricalCrossentropy", {}, (labels, class_probs)),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, (labels, class_logits)),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2},
     (np.where(np.arange(B) % 3 == 0, 2, labels).astype(np.int32), class_logits)),
]
for i, (cls, config, (y_true, y_pred)) in enumerate(LOSS_CASES):
    for reduction in ("sum_over_batch_size", "sum", "none", "mean_with_sample_weight"):
        for weighted in (False, True):
            if reduction == "mean_with_sample_weight" and not weighted:
                continue
            loss = getattr(keras.losses, cls)(reduction=reduction, **config)
            sw = sample_weight if weighted else None
            out = np.asarray(loss(y_true, y_pred, sample_weight=sw))
            case = f"loss/{i:02d}_{cls}_{reduction}_{int(weighted)}"
            spec = {"class": cls, "config": {**config, "reduction": reduction},
                    "weighted": weighted, "keras_config": loss.get_config()}
            put(case, spec, y_true=y_true, y_pred=y_pred, out=out,
                **({"sample_weight": sw} if weighted else {}))

FUNCTION_CASES = [
    ("mean_squared_error", regression), ("mean_absolute_error", regression),
    ("mean_absolute_percentage_error", regression),
    ("mean_squared_logarithmic_error", positive), ("huber", regression),
    ("log_cosh", regression), ("cosine_similarity", regression), ("poisson", positive),
    ("kl_divergence", probabilities), ("hinge", binary_logits), ("squared_hinge", signed),
    ("categorical_hinge", (one_hot, class_logits)), ("binary_crossentropy", binary),
    ("categorical_crossentropy", (one_hot, class_probs)),
    ("sparse_categorical_crossentropy", (labels, class_probs)),
]
for name, (y_true, y_pred) in FUNCTION_CASES:
    out = np.asarray(getattr(keras.losses, name)(y_true, y_pred))
    put(f"lossfn/{name}", {"function": name}, y_true=y_true, y_pred=y_pred, out=out)

# -- metrics (three batches each; result after every batch) ------------------------------------
def batches(make, n=3):
    return [make() for _ in range(n)]


def bin_batch():
    return f32(rng.integers(0, 2, (8, 1))), f32(rng.uniform(0, 1, (8, 1)))


def cat_batch():
    y = rng.integers(0, C, 8)
    return f32(np.eye(C)[y]), f32(softmax(rng.normal(0, 1.5, (8, C))))


def sparse_batch():
    return rng.integers(0, C, 8).astype(np.int32), f32(softmax(rng.normal(0, 1.5, (8, C))))


def reg_batch():
    return f32(rng.uniform(0.1, 2, (8, 3))), f32(rng.uniform(0.1, 2, (8, 3)))


def multi_bin_batch():
    return f32(rng.integers(0, 2, (8, 3))), f32(rng.uniform(0, 1, (8, 3)))


METRIC_CASES = [
    ("BinaryAccuracy", {}, bin_batch), ("BinaryAccuracy", {"threshold": 0.7}, bin_batch),
    ("CategoricalAccuracy", {}, cat_batch), ("SparseCategoricalAccuracy", {}, sparse_batch),
    ("TopKCategoricalAccuracy", {"k": 2}, cat_batch),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, sparse_batch),
    ("MeanSquaredError", {}, reg_batch), ("MeanAbsoluteError", {}, reg_batch),
    ("MeanAbsolutePercentageError", {}, reg_batch),
    ("MeanSquaredLogarithmicError", {}, reg_batch), ("RootMeanSquaredError", {}, reg_batch),
    ("CosineSimilarity", {}, reg_batch), ("LogCoshError", {}, reg_batch),
    ("KLDivergence", {}, cat_batch), ("Poisson", {}, reg_batch),
    ("Hinge", {}, multi_bin_batch), ("SquaredHinge", {}, multi_bin_batch),
    ("CategoricalHinge", {}, cat_batch),
    ("BinaryCrossentropy", {}, multi_bin_batch),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, cat_batch),
    ("SparseCategoricalCrossentropy", {}, sparse_batch),
    ("AUC", {}, bin_batch), ("AUC", {"curve": "PR"}, bin_batch),
    ("AUC", {"num_thresholds": 50}, multi_bin_batch),
    ("AUC", {"summation_method": "minoring"}, bin_batch),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, bin_batch),
    ("AUC", {"thresholds": [0.2, 0.4, 0.6, 0.8]}, bin_batch),
    ("Precision", {}, bin_batch), ("Recall", {}, bin_batch),
    ("Precision", {"thresholds": [0.3, 0.5, 0.7]}, multi_bin_batch),
    ("Recall", {"thresholds": [0.3, 0.5, 0.7]}, multi_bin_batch),
    ("Precision", {"top_k": 2}, cat_batch), ("Recall", {"class_id": 1}, cat_batch),
    ("TruePositives", {}, bin_batch), ("FalseNegatives", {"thresholds": [0.2, 0.6]}, bin_batch),
]
for i, (cls, config, make) in enumerate(METRIC_CASES):
    for weighted in (False, True):
        metric = getattr(keras.metrics, cls)(**config)
        data = batches(make)
        values = {}
        for b, (y_true, y_pred) in enumerate(data):
            sw = f32(rng.uniform(0.2, 2.0, len(y_true))) if weighted else None
            metric.update_state(y_true, y_pred, sample_weight=sw)
            values.update({f"y_true_{b}": y_true, f"y_pred_{b}": y_pred,
                           f"result_{b}": np.asarray(metric.result())})
            if weighted:
                values[f"sample_weight_{b}"] = sw
        put(f"metric/{i:02d}_{cls}_{int(weighted)}",
            {"class": cls, "config": config, "weighted": weighted, "batches": len(data)},
            **values)

# -- optimizers (two variables, five fixed gradients, weights after each step) -----------------
S = keras.optimizers.schedules
OPTIMIZER_CASES = [
    ("SGD", {"learning_rate": 0.1}), ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.3}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "global_clipnorm": 1.0}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("SGD", {"learning_rate": S.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)}),
    ("SGD", {"learning_rate": S.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01]),
             "momentum": 0.9}),
    ("Adam", {"learning_rate": 0.05}), ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.05, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3}),
    ("Adam", {"learning_rate": S.CosineDecay(0.05, decay_steps=4, alpha=0.1)}),
    ("Adam", {"learning_rate": S.CosineDecay(0.01, decay_steps=3, warmup_target=0.05,
                                             warmup_steps=2)}),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 0.5}),
    ("AdamW", {"learning_rate": 0.05}), ("AdamW", {"learning_rate": 0.05, "amsgrad": True,
                                                   "weight_decay": 0.1}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5}),
    ("RMSprop", {"learning_rate": S.InverseTimeDecay(0.01, decay_steps=1, decay_rate=0.5,
                                                     staircase=True)}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "clipvalue": 0.4}),
    ("Adadelta", {"learning_rate": 1.0}), ("Adadelta", {"learning_rate": 0.5, "rho": 0.9}),
    ("Adamax", {"learning_rate": 0.05}), ("Adamax", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.05}),
    ("Nadam", {"learning_rate": 0.05, "global_clipnorm": 0.8}),
]
w0 = [f32(rng.normal(size=(3, 4))), f32(rng.normal(size=(4,)))]
grads = [[f32(rng.normal(size=w.shape)) for w in w0] for _ in range(5)]
for i, (cls, config) in enumerate(OPTIMIZER_CASES):
    optimizer = getattr(keras.optimizers, cls)(**config)
    variables = [keras.Variable(w) for w in w0]
    values = {"w0_0": w0[0], "w0_1": w0[1]}
    for step, g in enumerate(grads):
        optimizer.apply_gradients(zip(g, variables))
        values[f"g{step}_0"], values[f"g{step}_1"] = g
        values[f"w{step + 1}_0"] = np.asarray(variables[0])
        values[f"w{step + 1}_1"] = np.asarray(variables[1])
    keras_config = optimizer.get_config()
    spec_config = {k: (keras.optimizers.schedules.serialize(v)
                       if isinstance(v, S.LearningRateSchedule) else v)
                   for k, v in config.items()}
    put(f"optimizer/{i:02d}_{cls}", {"class": cls, "config": spec_config, "steps": 5,
                                     "keras_config": json.loads(json.dumps(
                                         keras_config, default=str))}, **values)

np.savez_compressed(OUT, **arrays)
print(f"wrote {len(arrays)} arrays to {OUT} ({os.path.getsize(OUT) / 1e3:.0f} kB)")
