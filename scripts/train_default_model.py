#!/usr/bin/env python3
"""Train the MNIST CNN that /predict loads by default, with webkeras itself (NumPy backend).

    .venv/bin/python scripts/train_default_model.py [OUT_DIR]   (default: build/models)

Writes OUT_DIR/mnist_cnn.keras and the TF.js layers model OUT_DIR/mnist_cnn/ (model.json +
shards), then a `mnist_cnn.json` summary (test accuracy, sizes). Seeded, one epoch on the
60k training images (about a minute on one core). `make setup` runs it once (`make models`).
"""

import json
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "mnist_cnn"
SEED = 1
EPOCHS = 1
BATCH_SIZE = 64
MIN_TEST_ACCURACY = 0.97  # far below what one epoch reaches; a lower score means a broken build


def build_model(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(10, activation="softmax"),
    ], name=NAME)


def main(out_dir):
    os.environ.setdefault("WEBKERAS_BACKEND", "numpy")
    import webkeras as keras
    from webkeras.saving import tfjs

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[..., None].astype("float32") / 255.0
    x_test = x_test[..., None].astype("float32") / 255.0

    model = build_model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2)
    fit_seconds = time.perf_counter() - started
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    if accuracy < MIN_TEST_ACCURACY:
        raise SystemExit(f"{NAME}: test accuracy {accuracy:.4f} < {MIN_TEST_ACCURACY}; "
                         "not writing a broken default model.")

    os.makedirs(out_dir, exist_ok=True)
    model.save(os.path.join(out_dir, f"{NAME}.keras"))
    model_json = tfjs.save_tfjs(model, os.path.join(out_dir, NAME))
    info = {"name": NAME, "test_accuracy": round(float(accuracy), 4),
            "fit_seconds": round(fit_seconds, 1), "epochs": EPOCHS, "seed": SEED,
            "model_json": os.path.relpath(model_json, out_dir)}
    # Written last: the Makefile's target, so an interrupted run is redone.
    with open(os.path.join(out_dir, f"{NAME}.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"{NAME}: test accuracy {accuracy:.4f}, fit {fit_seconds:.0f} s -> {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO_ROOT, "build", "models"))
