"""kill -9 at random moments while saving: the file on disk is always the previous whole file
or the new whole one, and the next save removes the temporary files the killed writer left."""

import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest
import webkeras as keras
from webkeras.utils import file_utils

KILLS_PER_KIND = 12
KINDS = ["model.keras", "model.h5", "model.weights.h5", "checkpoint.weights.h5", "data.bin"]


def small_model():
    keras.utils.set_random_seed(1)
    # ~4 MB of weights: long enough writes that many kills land inside one.
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1024),
                              keras.layers.Dense(1024), keras.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    return model


def fill(model, value):
    model.set_weights([np.full(w.shape, value, w.dtype) for w in model.get_weights()])


def save_forever(kind, path):
    """The child: saves `path` again and again, each time with every weight set to the save's
    number, until it is killed."""
    model = small_model()
    x, y = np.ones((64, 8), "float32"), np.ones((64, 4), "float32")
    for value in range(1, 10 ** 6):
        if kind == "data.bin":
            file_utils.atomic_write_bytes(path, bytes([value % 256]) * 4_000_000)
            continue
        fill(model, value)
        if kind == "checkpoint.weights.h5":
            # Fitting with a zero learning rate keeps the weights at `value`.
            model.optimizer.learning_rate = 0.0
            model.fit(x, y, epochs=1, verbose=0, callbacks=[
                keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
        elif kind == "model.weights.h5":
            model.save_weights(path)
        else:
            model.save(path)


def saved_value(kind, path):
    """The one value every saved weight holds (the file must be whole and consistent)."""
    if kind == "data.bin":
        data = open(path, "rb").read()
        assert len(data) == 4_000_000 and len(set(data)) == 1
        return data[0]
    if kind in ("model.weights.h5", "checkpoint.weights.h5"):
        model = small_model()
        model.load_weights(path)
    else:
        model = keras.saving.load_model(path)
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"a mix of saves in one file: {sorted(values)[:5]}"
    return values.pop()


@pytest.mark.parametrize("kind", KINDS)
def test_kill_9_while_saving_leaves_a_whole_file(tmp_path, kind):
    rng = random.Random(f"kill-{kind}")
    path = str(tmp_path / kind)
    fork = multiprocessing.get_context("fork")
    survived = 0
    for _ in range(KILLS_PER_KIND):
        child = fork.Process(target=save_forever, args=(kind, path))
        child.start()
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        if os.path.exists(path):
            saved_value(kind, path)
            survived += 1
    assert survived >= KILLS_PER_KIND - 2, "the writer barely ever finished a save"
    orphans = [n for n in os.listdir(tmp_path) if n.startswith(file_utils.TEMP_PREFIX)]
    # One more save sweeps what the killed writers left, and leaves nothing of its own.
    if kind == "data.bin":
        file_utils.atomic_write_bytes(path, b"\x07" * 4_000_000)
    else:
        model = small_model()
        fill(model, 7.0)
        model.save_weights(path) if kind.endswith(".weights.h5") else model.save(path)
    assert saved_value(kind, path) == 7
    assert [n for n in os.listdir(tmp_path) if n != kind] == [], orphans


def test_next_write_removes_only_dead_writers_temporary_files(tmp_path):
    dead = multiprocessing.get_context("fork").Process(target=int)
    dead.start()
    dead.join()
    left = tmp_path / f"{file_utils.TEMP_PREFIX}{dead.pid}-0a1b2c3d4e5f-data.bin"
    live = tmp_path / f"{file_utils.TEMP_PREFIX}{os.getppid()}-0a1b2c3d4e5f-data.bin"
    other = tmp_path / f"{file_utils.TEMP_PREFIX}{dead.pid}-0a1b2c3d4e5f-other.bin"
    for path in (left, live, other):
        path.write_bytes(b"partial")
    file_utils.atomic_write_bytes(tmp_path / "data.bin", b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["data.bin", live.name, other.name])
