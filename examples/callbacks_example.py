"""The callbacks of the Keras tutorials, together on MNIST: EarlyStopping, ModelCheckpoint
(best weights only), CSVLogger, ReduceLROnPlateau and a PrintDot progress callback.

Run: python examples/callbacks_example.py [output_dir] [samples]
"""

import os
import sys

import numpy as np

import webkeras as keras
from webkeras import layers


class PrintDot(keras.callbacks.Callback):
    """The tutorials' quiet progress display: one dot per epoch."""

    def on_epoch_end(self, epoch, logs):
        if epoch % 100 == 0:
            print("")
        print(".", end="")


def main(out_dir="callbacks_example_out", samples=6000, epochs=40, extra_callbacks=()):
    os.makedirs(out_dir, exist_ok=True)
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train[:samples].reshape(-1, 784).astype("float32") / 255
    y_train = y_train[:samples]
    x_test = x_test[:2000].reshape(-1, 784).astype("float32") / 255

    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    checkpoint_path = os.path.join(out_dir, "best.weights.h5")
    csv_path = os.path.join(out_dir, "training.csv")
    callbacks = [
        keras.callbacks.EarlyStopping(patience=2, monitor="val_loss"),
        keras.callbacks.ModelCheckpoint(checkpoint_path, save_best_only=True,
                                        save_weights_only=True),
        keras.callbacks.CSVLogger(csv_path),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
        PrintDot(),
        *extra_callbacks,
    ]
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64,
                        validation_split=0.2, verbose=0, callbacks=callbacks)
    print(f"\nstopped after {len(history.epoch)} of {epochs} epochs")

    best = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    best.load_weights(checkpoint_path)
    return model, best, history, x_test, checkpoint_path, csv_path


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "callbacks_example_out"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    model, best, history, x_test, _, csv_path = main(out, n)
    print(np.argmax(best.predict(x_test[:10], verbose=0), axis=1))
    print(open(csv_path).read())
