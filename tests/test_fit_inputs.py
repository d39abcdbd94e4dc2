"""fit/evaluate/predict input kinds: Dataset, generator, PyDataset, multi-IO, weights, steps."""

import contextlib
import io
import math
import warnings

import numpy as np
import pytest

import webkeras as keras


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype="float64")
    y = rng.integers(0, 3, n)
    return centers[y] + rng.normal(0, 0.5, (n, 4)), y


def make_mlp(metrics=("accuracy",)):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model


def two_output_model():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    score = keras.layers.Dense(1, name="score")(hidden)
    label = keras.layers.Dense(3, activation="softmax", name="label")(hidden)
    return keras.Model(inputs, [score, label])


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        return self.x[low:low + self.batch_size], self.y[low:low + self.batch_size]

    def on_epoch_end(self):
        self.epochs_ended += 1


# -- input kinds -------------------------------------------------------------------------------
def test_dataset_generator_and_pydataset_give_the_array_results():
    x, y = blobs()
    reference = make_mlp()
    ref = reference.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    dataset = keras.data.Dataset.from_tensor_slices((x, y)).batch(32)
    from_dataset = make_mlp().fit(dataset, epochs=2, verbose=0)
    assert from_dataset.params["steps"] == 3
    np.testing.assert_allclose(from_dataset.history["loss"], ref["loss"], rtol=1e-5)
    sequence = Batches(x, y, 32)
    from_sequence = make_mlp().fit(sequence, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(from_sequence.history["loss"], ref["loss"], rtol=1e-5)
    assert sequence.epochs_ended == 2

    def generator():
        while True:
            for i in range(0, 96, 32):
                yield x[i:i + 32], y[i:i + 32]

    from_generator = make_mlp().fit(generator(), steps_per_epoch=3, epochs=2, verbose=0)
    np.testing.assert_allclose(from_generator.history["loss"], ref["loss"], rtol=1e-5)
    assert reference.evaluate(dataset, verbose=0)[0] == pytest.approx(
        reference.evaluate(x, y, verbose=0)[0], rel=1e-5)
    assert reference.predict(dataset, verbose=0).shape == (96, 3)


def test_finite_generator_without_steps_runs_one_epoch_then_stops_with_warning():
    x, y = blobs(64)
    model = make_mlp()
    batches = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert history.epoch == [0]


def test_repeated_dataset_needs_steps_and_continues_across_epochs():
    x, y = blobs(64)
    dataset = keras.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()
    model = make_mlp()
    with pytest.raises(ValueError, match="infinitely repeating dataset"):
        model.fit(dataset, epochs=1, verbose=0)
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    history = model.fit(dataset, epochs=3, steps_per_epoch=5, verbose=0,
                        validation_data=dataset, validation_steps=2, callbacks=[counter])
    assert history.params["steps"] == 5
    assert seen == list(range(5)) * 3
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_steps_per_epoch_with_arrays_continues_then_restarts_as_keras():
    x, y = blobs(96)
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    with pytest.warns(UserWarning, match="ran out of data"):
        make_mlp().fit(x, y, batch_size=32, steps_per_epoch=2, epochs=3, verbose=0,
                       callbacks=[counter])
    # 3 batches of data, 2 steps per epoch: real Keras 3 runs [0, 1], [0], [0, 1].
    assert seen == [0, 1, 0, 0, 1]


def test_validation_freq_int_and_list():
    x, y = blobs(64)
    history = make_mlp().fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2,
                             verbose=0)
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2
    history = make_mlp().fit(x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3],
                             verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_sample_weight_and_class_weight_weight_the_loss():
    x, y = blobs(64)
    model = make_mlp()
    plain = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    zero_class0 = np.where(y == 0, 0.0, 1.0)
    weighted = model.evaluate(x, y, sample_weight=zero_class0, verbose=0, return_dict=True)
    per_sample = keras.losses.sparse_categorical_crossentropy(y, model.predict(x, verbose=0))
    per_sample = np.asarray(per_sample.numpy())
    assert weighted["loss"] == pytest.approx((per_sample * zero_class0).mean(), rel=1e-4)
    assert weighted["loss"] != pytest.approx(plain)
    # class_weight {0: 0} gives the same loss as zero sample weights on class 0
    a, b = make_mlp(), make_mlp()
    ha = a.fit(x, y, class_weight={0: 0.0, 1: 1.0, 2: 1.0}, epochs=2, shuffle=False,
               verbose=0)
    hb = b.fit(x, y, sample_weight=zero_class0, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)


def test_weighted_metrics_use_sample_weight_and_metrics_do_not():
    x, y = blobs(64)
    model = make_mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    weights = np.where(y == 0, 1.0, 0.0)
    logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    predicted = np.argmax(model.predict(x, verbose=0), axis=1)
    assert logs["accuracy"] == pytest.approx(np.mean(predicted == y), abs=1e-6)
    assert logs["weighted_accuracy"] == pytest.approx(np.mean(predicted[y == 0] == 0), abs=1e-6)


def test_multi_output_names_match_keras():
    x, y = blobs(40)
    score = np.random.default_rng(0).random((40, 1))
    model = two_output_model()
    model.compile("adam", loss={"score": "mse", "label": "sparse_categorical_crossentropy"},
                  metrics={"score": ["mae"], "label": ["acc"]}, loss_weights=[1.0, 0.5])
    history = model.fit(x, [score, y], epochs=2, validation_split=0.25, verbose=0)
    assert sorted(history.history) == [
        "label_acc", "label_loss", "loss", "score_loss", "score_mae",
        "val_label_acc", "val_label_loss", "val_loss", "val_score_loss", "val_score_mae"]
    logs = model.evaluate(x, {"score": score, "label": y}, verbose=0, return_dict=True)
    # Per-output losses are logged unweighted; the total applies loss_weights.
    assert logs["loss"] == pytest.approx(logs["score_loss"] + 0.5 * logs["label_loss"],
                                         rel=1e-4)
    values = model.evaluate(x, [score, y], verbose=0)
    assert model.metrics_names == ["loss", "score_loss", "label_loss", "label_acc", "score_mae"]
    assert values == pytest.approx([logs[n] for n in model.metrics_names], rel=1e-6)
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy"]])
    history = model.fit(x, [score, y], epochs=1, verbose=0)
    assert sorted(history.history) == ["label_accuracy", "label_loss", "loss", "score_loss",
                                       "score_mae"]
    score_pred, label_pred = model.predict(x, verbose=0)
    assert score_pred.shape == (40, 1) and label_pred.shape == (40, 3)


def test_multi_input_dict_and_dataset_of_dicts():
    keras.utils.set_random_seed(0)
    a = keras.Input((2,), name="a")
    b = keras.Input((3,), name="b")
    merged = keras.layers.Dense(4, activation="relu")(keras.layers.Concatenate()([a, b]))
    model = keras.Model([a, b], keras.layers.Dense(1)(merged))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    xa, xb, y = rng.random((32, 2)), rng.random((32, 3)), rng.random((32, 1))
    from_list = model.evaluate([xa, xb], y, verbose=0)
    from_dict = model.evaluate({"a": xa, "b": xb}, y, verbose=0)
    dataset = keras.data.Dataset.from_tensor_slices(({"a": xa, "b": xb}, y)).batch(8)
    from_dataset = model.evaluate(dataset, verbose=0)
    assert from_list == pytest.approx(from_dict, rel=1e-6)
    assert from_list == pytest.approx(from_dataset, rel=1e-5)
    model.fit(dataset, epochs=1, verbose=0)


def test_verbose_2_prints_one_line_per_epoch():
    x, y = blobs(64)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        make_mlp().fit(x, y, epochs=2, batch_size=32, verbose=2, validation_data=(x, y))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert lines[1].startswith("2/2 - ") and "ms/step - accuracy: " in lines[1]
    keys = [part.split(":")[0] for part in lines[1].split(" - ")[3:]]
    assert keys == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_train_test_predict_on_batch_and_stop_training():
    x, y = blobs(32)
    model = make_mlp()
    loss, acc = model.train_on_batch(x, y)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.predict_on_batch(x).shape == (32, 3)

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    assert make_mlp().fit(x, y, epochs=5, verbose=0, callbacks=[Stop()]).epoch == [0]


def test_initial_epoch_counts_from_there():
    x, y = blobs(32)
    history = make_mlp().fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3]


# -- bad input ---------------------------------------------------------------------------------
def test_validation_split_with_dataset_or_generator_is_rejected():
    x, y = blobs(32)
    dataset = keras.data.Dataset.from_tensor_slices((x, y)).batch(8)
    with pytest.raises(ValueError, match="`validation_split` is only supported for tensors"):
        make_mlp().fit(dataset, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="`validation_split` is only supported for tensors"):
        make_mlp().fit((b for b in [(x, y)]), validation_split=0.2, verbose=0)


def test_y_with_dataset_is_rejected():
    x, y = blobs(32)
    dataset = keras.data.Dataset.from_tensor_slices(x).batch(8)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        make_mlp().fit(dataset, y, verbose=0)


def test_target_shape_mismatch_names_output_and_shapes():
    x, _ = blobs(16)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"\(16, 5\).*\(16, 3\)"):
        model.fit(x, np.zeros((16, 5)), verbose=0)
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, np.zeros(16), verbose=0)


def test_unknown_output_names_in_dicts():
    x, y = blobs(16)
    model = two_output_model()
    with pytest.raises(ValueError, match="key 'scor' does not correspond to any model output"):
        model.compile("adam", loss={"scor": "mse", "label": "mse"})
        model.fit(x, [np.zeros((16, 1)), y], verbose=0)
    model.compile("adam", loss={"score": "mse", "label": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match=r"\['lable'\] that name no model output"):
        model.fit(x, {"score": np.zeros((16, 1)), "lable": y}, verbose=0)
    with pytest.raises(ValueError, match="2 outputs"):
        model.fit(x, y, verbose=0)


def test_generator_error_propagates_with_context():
    x, y = blobs(32)

    def broken():
        yield x[:8], y[:8]
        raise RuntimeError("disk on fire")

    model = make_mlp()
    with pytest.raises(RuntimeError, match="disk on fire") as info:
        model.fit(broken(), epochs=1, verbose=0)
    assert "batch 1" in "".join(getattr(info.value, "__notes__", []))


def test_unknown_validation_freq_and_verbose():
    x, y = blobs(16)
    with pytest.raises(ValueError, match="validation_freq"):
        make_mlp().fit(x, y, validation_data=(x, y), validation_freq="x", verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        make_mlp().fit(x, y, verbose=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_mlp().fit(x, y, verbose=0)


# -- WebGPU ------------------------------------------------------------------------------------
def test_dataset_fit_with_class_weight_and_callbacks_agrees_on_webgpu(tmp_path):
    pytest.importorskip("wgpu")
    from webkeras import backend

    x, y = blobs(64)
    dataset = keras.data.Dataset.from_tensor_slices((x, y)).batch(16)

    def run():
        model = make_mlp()
        csv_path = tmp_path / f"{backend.get_backend().name}.csv"
        history = model.fit(dataset, epochs=2, verbose=0, validation_data=dataset,
                            class_weight={0: 2.0, 1: 1.0, 2: 0.5},
                            callbacks=[keras.callbacks.CSVLogger(str(csv_path))])
        return history.history, model.predict(x[:8], verbose=0)

    previous = backend.get_backend().name
    reference = run()
    try:
        try:
            backend.set_backend("webgpu")
        except Exception as exc:  # no adapter on this machine
            pytest.skip(f"no WebGPU adapter: {exc}")
        on_gpu = run()
    finally:
        backend.set_backend(previous)
    assert sorted(on_gpu[0]) == sorted(reference[0])
    for key in reference[0]:
        np.testing.assert_allclose(on_gpu[0][key], reference[0][key], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(on_gpu[1], reference[1], rtol=1e-4, atol=1e-5)
