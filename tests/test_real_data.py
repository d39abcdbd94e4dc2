"""Real-data accuracy, natively, fixed seeds: sklearn's breast cancer and digits, and the
tutorials' multi-input/multi-output MNIST model trained with loss_weights [1, 0.1]."""

import numpy as np
import pytest

import webkeras as keras

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def split(x, y, test_fraction=0.25, seed=0):
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(len(x) * (1 - test_fraction))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-8
    return (train - mean) / std, (test - mean) / std


def test_breast_cancer_mlp_reaches_93_percent_in_10_epochs():
    data = sklearn_datasets.load_breast_cancer()
    (x_train, y_train), (x_test, y_test) = split(data.data, data.target)
    x_train, x_test = standardize(x_train, x_test)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((30,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, batch_size=16, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.93


def test_digits_mlp_reaches_93_percent():
    data = sklearn_datasets.load_digits()
    (x_train, y_train), (x_test, y_test) = split(data.data / 16.0, data.target)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.93


def test_multi_input_multi_output_mnist_with_loss_weights():
    """Two inputs (image, its row means) -> digit class and 'is the digit >= 5'."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train, y_train = x_train[:6000].astype("float32") / 255, y_train[:6000]
    x_test, y_test = x_test.astype("float32") / 255, y_test
    image = keras.Input((28, 28), name="image")
    rows = keras.Input((28,), name="row_means")
    features = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(image))
    merged = keras.layers.concatenate([features, keras.layers.Dense(8, activation="relu")(rows)])
    digit = keras.layers.Dense(10, activation="softmax", name="digit")(merged)
    high = keras.layers.Dense(1, activation="sigmoid", name="high")(merged)
    keras.utils.set_random_seed(0)
    model = keras.Model(inputs=[image, rows], outputs=[digit, high])
    model.compile(optimizer="adam",
                  loss=["sparse_categorical_crossentropy", "binary_crossentropy"],
                  loss_weights=[1.0, 0.1], metrics=[["accuracy"], ["accuracy"]])
    history = model.fit([x_train, x_train.mean(axis=2)], [y_train, (y_train >= 5)],
                        epochs=3, batch_size=64, verbose=0)
    assert {"loss", "digit_loss", "high_loss"} <= set(history.history)
    total = history.history["loss"][-1]
    weighted = history.history["digit_loss"][-1] + 0.1 * history.history["high_loss"][-1]
    assert total == pytest.approx(weighted, rel=0.05)
    results = model.evaluate([x_test, x_test.mean(axis=2)], [y_test, (y_test >= 5)],
                             verbose=0, return_dict=True)
    digit_accuracy = [v for k, v in results.items() if k.startswith("digit") and "acc" in k][0]
    assert digit_accuracy >= 0.90, results
