"""Built-in callbacks through fit(): checkpoints, early stopping, CSV, LR control, TensorBoard."""

import contextlib
import csv
import io
import os
import runpy
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import webkeras as keras
from webkeras import ops
from webkeras.utils import event_file

REPO = Path(__file__).resolve().parent.parent


def blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype="float64")
    y = rng.integers(0, 3, n)
    return centers[y] + rng.normal(0, 0.7, (n, 4)), y


def make_mlp(learning_rate=0.01):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class FakeLogs(keras.callbacks.Callback):
    """Overwrites the epoch's `val_loss` with a scripted sequence (runs before the others)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


# -- the tutorial example ----------------------------------------------------------------------
def test_tutorial_callbacks_example_on_mnist_stops_early_and_checkpoint_reloads(tmp_path):
    example = runpy.run_path(str(REPO / "examples" / "callbacks_example.py"))
    snapshots = {}

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots[epoch] = (logs["val_loss"], self.model.get_weights())

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model, best, history, x_test, checkpoint, csv_path = example["main"](
            str(tmp_path), samples=2000, epochs=40, extra_callbacks=[Snapshot()])
    epochs_run = len(history.epoch)
    assert 3 <= epochs_run < 40, "EarlyStopping(patience=2) should stop well before 40 epochs"
    assert out.getvalue().count(".") >= epochs_run
    with open(csv_path) as f:
        rows = list(csv.reader(f))
    # CSVLogger runs before ReduceLROnPlateau adds `learning_rate`, so (as in Keras) the
    # columns are those of the first epoch's logs at that point.
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(rows) == 1 + epochs_run
    assert [int(r[0]) for r in rows[1:]] == list(range(epochs_run))
    # The checkpoint holds the best epoch's weights, and predicts as that epoch's model did.
    best_epoch = min(snapshots, key=lambda e: snapshots[e][0])
    for loaded, kept in zip(best.get_weights(), snapshots[best_epoch][1]):
        np.testing.assert_array_equal(loaded, kept)
    twin = keras.models.clone_model(model) if hasattr(keras.models, "clone_model") else None
    if twin is not None:
        twin.set_weights(snapshots[best_epoch][1])
        np.testing.assert_array_equal(best.predict(x_test[:50], verbose=0),
                                      twin.predict(x_test[:50], verbose=0))
    assert np.isfinite(best.predict(x_test[:50], verbose=0)).all()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- ModelCheckpoint ---------------------------------------------------------------------------
def test_checkpoint_filepath_template_and_best_only(tmp_path):
    x, y = blobs()
    template = str(tmp_path / "w-{epoch:02d}-{val_loss:.2f}.weights.h5")
    model = make_mlp()
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(template, save_weights_only=True)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:5] for n in names] == ["w-01-", "w-02-", "w-03-"]
    assert all(n.endswith(".weights.h5") for n in names)

    best_path = tmp_path / "best.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(str(best_path), save_best_only=True,
                                                 save_weights_only=True, verbose=1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        make_mlp().fit(x, y, epochs=4, callbacks=[FakeLogs([3.0, 2.0, 2.5, 2.2]),
                                                 checkpoint], verbose=0)
    text = out.getvalue()
    assert "Epoch 1: val_loss improved from inf to 3.00000, saving model to" in text
    assert "Epoch 3: val_loss did not improve from 2.00000" in text
    assert checkpoint.best == 2.0


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    x, y = blobs(32)
    path = tmp_path / "model.weights.h5"
    model = make_mlp()
    model.save_weights(str(path))
    before = path.read_bytes()

    def crash(filepath, overwrite=True):
        with open(filepath, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", crash)
    callback = keras.callbacks.ModelCheckpoint(str(path), save_weights_only=True)
    with pytest.raises(OSError, match="disk full"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.h5"]


def test_checkpoint_path_errors():
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        keras.callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        keras.callbacks.ModelCheckpoint("model.bin")


def test_weights_file_uses_keras_layout_and_round_trips(tmp_path):
    h5py = pytest.importorskip("h5py")
    x, _ = blobs(8)
    model = make_mlp()
    path = tmp_path / "m.weights.h5"
    model.save_weights(str(path))
    with h5py.File(path) as f:
        dense = [n for n in f["layers"]]
        assert all(list(f["layers"][n]["vars"]) == ["0", "1"] for n in dense)
        assert f["layers"][dense[0]]["vars"]["0"].shape == (4, 8)
    other = make_mlp()
    keras.utils.set_random_seed(99)
    other.set_weights([w + 1 for w in other.get_weights()])
    other.load_weights(str(path))
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    wrong = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5)])
    with pytest.raises(ValueError, match="has shape .4, 5., but the file holds shape .4, 8."):
        wrong.load_weights(str(path))


# -- EarlyStopping -----------------------------------------------------------------------------
def test_early_stopping_patience_and_restore_best_weights():
    x, y = blobs(32)
    model = make_mlp()
    weights_at = {}

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights_at[epoch] = self.model.get_weights()

    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        history = model.fit(x, y, epochs=10, verbose=0, callbacks=[
            FakeLogs([5.0, 4.0, 4.5, 4.2, 1.0, 0.5]), Record(), stop])
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best == 4.0 and stop.best_epoch == 1
    assert "Epoch 4: early stopping" in out.getvalue()
    assert "Restoring model weights from the end of the best epoch: 2." in out.getvalue()
    for restored, kept in zip(model.get_weights(), weights_at[1]):
        np.testing.assert_array_equal(restored, kept)


def test_early_stopping_min_delta_baseline_and_mode():
    x, y = blobs(32)
    stop = keras.callbacks.EarlyStopping(patience=1, min_delta=0.5)
    history = make_mlp().fit(x, y, epochs=10, verbose=0,
                             callbacks=[FakeLogs([5.0, 4.8, 4.6, 4.4]), stop])
    assert history.epoch == [0, 1]
    # Improvements that miss the baseline do not reset the patience count (Keras's rule).
    values = [5.0, 4.0, 4.5, 4.6, 4.7, 4.8]
    stop = keras.callbacks.EarlyStopping(patience=3, baseline=1.0)
    history = make_mlp().fit(x, y, epochs=6, verbose=0, callbacks=[FakeLogs(values), stop])
    assert history.epoch == [0, 1, 2]
    stop = keras.callbacks.EarlyStopping(patience=3)
    history = make_mlp().fit(x, y, epochs=6, verbose=0, callbacks=[FakeLogs(values), stop])
    assert history.epoch == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="maximized or minimized"):
        make_mlp().fit(x, y, epochs=1, verbose=0,
                       callbacks=[keras.callbacks.EarlyStopping(monitor="whatever")])
    stop = keras.callbacks.EarlyStopping(monitor="accuracy", patience=0, mode="max")
    make_mlp().fit(x, y, epochs=2, verbose=0, callbacks=[stop])
    with pytest.warns(UserWarning, match="which is not available"):
        make_mlp().fit(x, y, epochs=1, verbose=0,
                       callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss")])


# -- CSVLogger ---------------------------------------------------------------------------------
def test_csv_logger_columns_append_and_separator(tmp_path):
    x, y = blobs(32)
    path = tmp_path / "log.csv"
    make_mlp().fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                   callbacks=[keras.callbacks.CSVLogger(str(path))])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    make_mlp().fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                   callbacks=[keras.callbacks.CSVLogger(str(path), append=True)])
    rows = list(csv.reader(open(path)))
    assert len(rows) == 4 and rows[3][0] == "0"
    # Without validation, Keras adds "val_" columns filled with NA.
    path2 = tmp_path / "log2.csv"
    make_mlp().fit(x, y, epochs=1, verbose=0,
                   callbacks=[keras.callbacks.CSVLogger(str(path2), separator=";")])
    lines = path2.read_text().splitlines()
    assert lines[0] == "epoch;accuracy;loss;val_accuracy;val_loss"
    assert lines[1].endswith(";NA;NA")


# -- learning rate control ---------------------------------------------------------------------
def test_reduce_lr_on_plateau_patience_cooldown_min_lr():
    x, y = blobs(32)
    model = make_mlp(learning_rate=1.0)
    reduce = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    history = model.fit(x, y, epochs=9, verbose=0, callbacks=[
        FakeLogs([1.0] * 9), reduce])
    # The rate is logged before that epoch's reduction: 2 epochs of waiting -> 0.5, one
    # cooldown epoch that also counts as waiting again, -> 0.25, -> 0.125 clipped to min_lr.
    assert history.history["learning_rate"] == pytest.approx(
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2])
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        keras.callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_sets_rate_each_epoch():
    x, y = blobs(32)
    model = make_mlp(learning_rate=0.1)
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    bad = keras.callbacks.LearningRateScheduler(lambda epoch: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


# -- TerminateOnNaN, LambdaCallback, hook order ------------------------------------------------
def test_terminate_on_nan_stops_and_says_so():
    x, y = blobs(64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", loss=lambda y_true, y_pred: ops.log(y_pred * 0 - 1.0))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
    assert "Batch 0: Invalid loss, terminating training" in out.getvalue()
    assert history.epoch == [0] and np.isnan(history.history["loss"][0])
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])


def test_lambda_callback_and_hook_order():
    x, y = blobs(32)
    events = []
    hooks = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    make_mlp().fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(x, y),
                   callbacks=[hooks])
    assert events == ["train_begin", "epoch_begin 0",
                      "batch_end 0 ['accuracy', 'loss']", "batch_end 1 ['accuracy', 'loss']",
                      "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
                      "train_end"]


def test_every_hook_exists_and_test_hooks_run_during_validation():
    names = [f"on_{a}_{b}" for a in ("train", "test", "predict")
             for b in ("begin", "end", "batch_begin", "batch_end")]
    names += ["on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end"]
    for name in names:
        assert callable(getattr(keras.callbacks.Callback(), name))
    calls = []

    class Count(keras.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            calls.append(batch)

    x, y = blobs(32)
    make_mlp().fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x, y),
                   callbacks=[Count()])
    assert calls == [0, 1, 0, 1]


# -- TensorBoard -------------------------------------------------------------------------------
def read_records(path):
    data = Path(path).read_bytes()
    records, i = [], 0
    while i < len(data):
        (length,) = struct.unpack("<Q", data[i:i + 8])
        (length_crc,) = struct.unpack("<I", data[i + 8:i + 12])
        assert length_crc == event_file.masked_crc32c(data[i:i + 8])
        payload = data[i + 12:i + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[i + 12 + length:i + 16 + length])
        assert payload_crc == event_file.masked_crc32c(payload)
        records.append(payload)
        i += 16 + length
    return records


def test_crc32c_known_answer():
    # RFC 3720 test vector: 32 bytes of zeros.
    assert event_file.crc32c(bytes(32)) == 0x8A9136AA
    assert event_file.crc32c(b"123456789") == 0xE3069283


def test_tensorboard_writes_train_and_validation_scalars(tmp_path):
    x, y = blobs(32)
    make_mlp().fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                   callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path))])
    train_files = list((tmp_path / "train").glob("events.out.tfevents.*.v2"))
    val_files = list((tmp_path / "validation").glob("events.out.tfevents.*.v2"))
    assert len(train_files) == 1 and len(val_files) == 1
    train = read_records(train_files[0])
    assert b"brain.Event:2" in train[0]
    assert len(train) == 1 + 3 * 3  # accuracy, loss, learning_rate per epoch
    assert any(b"epoch_learning_rate" in r for r in train)
    assert len(read_records(val_files[0])) == 1 + 3 * 2

    reader = os.environ.get("WEBKERAS_TENSORBOARD_PYTHON", "/tmp/tbvenv/bin/python")
    if not Path(reader).exists():
        pytest.skip("no Python with `tensorboard` installed to read the files back")
    script = (
        "import sys\n"
        "from tensorboard.backend.event_processing import event_accumulator as ea\n"
        "for sub in ('train', 'validation'):\n"
        "    acc = ea.EventAccumulator(sys.argv[1] + '/' + sub); acc.Reload()\n"
        "    for tag in sorted(acc.Tags()['scalars']):\n"
        "        print(sub, tag, [(e.step, round(e.value, 5)) for e in acc.Scalars(tag)])\n"
    )
    result = subprocess.run([reader, "-c", script, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    tags = [" ".join(line.split()[:2]) for line in lines]
    assert tags == ["train epoch_accuracy", "train epoch_learning_rate", "train epoch_loss",
                    "validation epoch_accuracy", "validation epoch_loss"]
    assert "(2, " in lines[2] and "[(0, 0.01), (1, 0.01), (2, 0.01)]" in lines[1]
