"""The training API refuses nonsense up front, through fit / evaluate / predict / the
*_on_batch methods: each error names the argument, what was received and what is expected."""

import re
import warnings

import numpy as np
import pytest
import webkeras as keras

X = np.random.default_rng(0).random((8, 4)).astype("float32")
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])


def model(loss="sparse_categorical_crossentropy", metrics=("accuracy",), weighted=None):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    m.compile("sgd", loss, metrics=list(metrics), weighted_metrics=weighted)
    return m


def refused(error, *words):
    """`pytest.raises(error)` whose message holds every one of `words`, in any order."""
    return pytest.raises(error, match="(?s)" + "".join(f"(?=.*{re.escape(w)})" for w in words))


# -- sparse labels outside [0, classes) ------------------------------------------------------
@pytest.mark.parametrize("labels, bad", [(np.full(8, 99), "99"), (np.full(8, -1), "-1"),
                                         (np.array([0, 1, 2, 3, 0, 1, 2, 0]), "3")])
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_sparse_labels_outside_the_classes_are_refused(method, labels, bad):
    m = model()
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    # Before: evaluate with every label 99 gave a loss of 0.0.
    with refused(ValueError, f"label value of {bad}", "[0, 3)", "`y`",
                 "sparse_categorical_crossentropy"):
        getattr(m, method)(X, labels, **kwargs)


def test_sparse_metric_alone_checks_labels_too():
    m = model(loss="mse", metrics=[keras.metrics.SparseCategoricalAccuracy()])
    with refused(ValueError, "label value of 5", "sparse_categorical_accuracy"):
        m.evaluate(X, np.full(8, 5), verbose=0)
    m = model(loss="mse", metrics=[], weighted=["sparse_top_k_categorical_accuracy"])
    with refused(ValueError, "label value of 5", "sparse_top_k_categorical_accuracy"):
        m.evaluate(X, np.full(8, 5), verbose=0)


def test_validation_labels_are_checked_and_named():
    with refused(ValueError, "label value of 7", "`validation_data`"):
        model().fit(X, Y, validation_data=(X, np.full(8, 7)), verbose=0)


def test_ignore_class_and_labels_in_range_are_accepted():
    m = model(loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=-1), metrics=[])
    labels = np.array([0, 1, 2, -1, 1, 2, 0, -1])
    assert np.isfinite(m.evaluate(X, labels, verbose=0))
    assert np.isfinite(model().evaluate(X, Y, verbose=0)[0])
    # Float labels and one-hot targets are not sparse integer arrays: not checked here.
    model(loss="categorical_crossentropy").evaluate(X, np.eye(3)[Y], verbose=0)


def test_multi_output_labels_are_checked_per_output():
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3, name="a")(inputs)
    b = keras.layers.Dense(5, name="b")(inputs)
    m = keras.Model(inputs, [a, b])
    m.compile("sgd", loss=["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)])
    m.evaluate(X, [np.zeros((8, 3)), np.full(8, 4)], verbose=0)
    with refused(ValueError, "label value of 5", "[0, 5)", "output 'b'"):
        m.evaluate(X, [np.zeros((8, 3)), np.full(8, 5)], verbose=0)


# -- weights -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_sample_weight_is_refused(value):
    weights = np.ones(8)
    weights[3] = value
    with refused(ValueError, "`sample_weight`", "1 NaN or infinite", "finite"):
        model().fit(X, Y, sample_weight=weights, verbose=0)
    with refused(ValueError, "`sample_weight`", "finite"):
        model().train_on_batch(X, Y, sample_weight=weights)
    with refused(ValueError, "`sample_weight`", "finite"):
        model().evaluate(X, Y, sample_weight=weights, verbose=0)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_class_weight_is_refused(value):
    class_weight = {0: 1.0, 1: value, 2: 1.0}
    with refused(ValueError, "`class_weight`", f"class_weight[1]={value!r}", "finite"):
        model().fit(X, Y, class_weight=class_weight, verbose=0)
    with refused(ValueError, "`class_weight`", "finite"):
        model().train_on_batch(X, Y, class_weight=class_weight)


def test_class_weight_missing_a_class_of_the_data_is_refused():
    with refused(ValueError, "must contain all classes", "[2]", "{0: 1.0, 1: 1.0}"):
        model().fit(X, Y, class_weight={0: 1.0, 1: 1.0}, verbose=0)
    with refused(ValueError, "[1, 2]"):
        model().train_on_batch(X, Y, class_weight={0: 1.0})
    # One-hot targets: the classes are the argmax.
    m = model(loss="categorical_crossentropy")
    with refused(ValueError, "[2]"):
        m.fit(X, np.eye(3)[Y], class_weight={0: 1.0, 1: 2.0}, verbose=0)
    m.fit(X, np.eye(3)[Y], class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)


def test_class_weight_must_be_a_dict_of_numbers():
    with refused(TypeError, "`class_weight`", "dict"):
        model().fit(X, Y, class_weight=[1.0, 2.0, 3.0], verbose=0)
    with refused(TypeError, "`class_weight`", "'heavy'"):
        model().fit(X, Y, class_weight={0: 1.0, 1: "heavy", 2: 1.0}, verbose=0)


# -- counts ------------------------------------------------------------------------------------
BAD_COUNTS = [(0, ValueError), (-5, ValueError), ("32", TypeError), (8.5, TypeError),
              (True, TypeError), (None, None)]


@pytest.mark.parametrize("value, error", BAD_COUNTS)
@pytest.mark.parametrize("argument", ["batch_size", "epochs", "steps_per_epoch",
                                      "validation_steps", "validation_batch_size"])
def test_fit_counts_must_be_positive_integers(argument, value, error):
    kwargs = {argument: value, "verbose": 0}
    if argument.startswith("validation"):
        kwargs["validation_data"] = (X, Y)
    if error is None:
        if argument == "epochs":
            with refused(TypeError, "`epochs`", "Received: epochs=None"):
                model().fit(X, Y, **kwargs)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model().fit(X, Y, **kwargs)
        return
    with refused(error, f"`{argument}` must be a positive integer", f"{argument}={value!r}"):
        model().fit(X, Y, **kwargs)


@pytest.mark.parametrize("value, error", BAD_COUNTS[:-1])
@pytest.mark.parametrize("method, argument", [("evaluate", "batch_size"), ("evaluate", "steps"),
                                              ("predict", "batch_size"), ("predict", "steps")])
def test_evaluate_and_predict_counts_must_be_positive_integers(method, argument, value, error):
    args = (X, Y) if method == "evaluate" else (X,)
    with refused(error, f"`{argument}`", f"{argument}={value!r}", "positive integer"):
        getattr(model(), method)(*args, verbose=0, **{argument: value})


def test_numpy_integers_are_counts():
    history = model().fit(X, Y, batch_size=np.int64(4), epochs=np.int32(2), verbose=0)
    assert len(history.history["loss"]) == 2


# -- empty data and complex numbers ----------------------------------------------------------
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "train_on_batch",
                                    "predict_on_batch"])
def test_data_without_samples_is_refused(method):
    args = (X[:0],) if method.startswith("predict") else (X[:0], Y[:0])
    kwargs = {"verbose": 0} if method in ("fit", "evaluate", "predict") else {}
    with refused(ValueError, "`x` holds 0 samples", "(0, 4)", "at least one"):
        getattr(model(), method)(*args, **kwargs)


def test_empty_validation_data_is_refused():
    with refused(ValueError, "`validation_data` holds 0 samples"):
        model().fit(X, Y, validation_data=(X[:0], Y[:0]), verbose=0)


def test_empty_dataset_is_refused():
    dataset = keras.data.Dataset.from_tensor_slices((X[:0], Y[:0])).batch(4)
    with refused(ValueError, "`x` holds 0 batches"):
        model().fit(dataset, verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "train_on_batch",
                                    "predict_on_batch"])
def test_complex_inputs_are_refused(method):
    x = X.astype(np.complex64) + 1j
    args = (x,) if method.startswith("predict") else (x, Y)
    kwargs = {"verbose": 0} if method in ("fit", "evaluate", "predict") else {}
    with refused(ValueError, "`x`", "real numbers", "complex64"):
        getattr(model(), method)(*args, **kwargs)


def test_complex_targets_are_refused():
    with refused(ValueError, "`y`", "real numbers", "complex128"):
        model(loss="mse").fit(X, np.zeros((8, 3), complex), verbose=0)
