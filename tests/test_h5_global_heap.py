"""A damaged global heap is refused before libhdf5 reads it (issue #19).

libhdf5 loops forever on a global heap collection holding an object of size 0 (the fuzzer's
tests/fuzz_findings/hangs/h5-timeout-*). Every load that could meet one runs in a child
process here, so that a regression fails the test instead of hanging the run. The damaged
files are real webkeras files of each kind with one field of their heap rewritten.
"""

import io
import json
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import webkeras as keras
from conftest import REPO_ROOT
from webkeras.saving import h5_global_heap, keras_zip

HANG_FINDING = next((REPO_ROOT / "tests/fuzz_findings/hangs").glob("h5-timeout-*"))
# A refusal takes well under a second; a hang never ends.
MAX_SECONDS = 10
# The child loads the file and prints what happened, as JSON.
CHILD = """
import json, sys, time
import webkeras as keras
start = time.perf_counter()
try:
    load = keras.Model.load_weights if sys.argv[1].endswith(".weights.h5") else None
    if load:
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
        model.load_weights(sys.argv[1])
    else:
        keras.saving.load_model(sys.argv[1])
    outcome = {"error": None, "message": ""}
except Exception as error:
    outcome = {"error": type(error).__name__, "message": str(error)}
outcome["seconds"] = time.perf_counter() - start
print(json.dumps(outcome))
"""


def load_in_child(path):
    result = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                            text=True, timeout=120, cwd=REPO_ROOT,
                            env={"PYTHONPATH": str(REPO_ROOT / "py"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")])
    model.layers[-1].kernel.assign(np.arange(12, dtype="float32").reshape(4, 3))
    return model


def save(kind, path):
    model = make_model()
    if kind == "weights.h5":
        model.save_weights(path)
    else:
        model.save(path)
    return model


def heap_objects(data):
    """[(object index, byte offset, size)] of the first global heap collection in `data`."""
    start = data.index(b"GCOL")
    end = start + struct.unpack_from("<Q", data, start + 8)[0]
    position, objects = start + 16, []
    while position + 16 <= end:
        index, _, size = struct.unpack_from("<HH4xQ", data, position)
        objects.append((index, position, size))
        position += size if index == 0 else 16 + (size + 7) // 8 * 8
    return objects


def with_object_size(data, pick, size):
    """`data` with the size field of the heap object `pick(objects)` set to `size`."""
    _, offset, _ = pick(heap_objects(data))
    return data[:offset + 8] + struct.pack("<Q", size) + data[offset + 16:]


def free_space(objects):
    return next(o for o in objects if o[0] == 0)


def first_string(objects):
    return next(o for o in objects if o[0] != 0)


def rewrite(kind, path, edit):
    """Applies `edit(bytes) -> bytes` to the HDF5 file (for `.keras`: its weights member)."""
    if kind != "keras":
        path.write_bytes(edit(path.read_bytes()))
        return
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in items:
            dst.writestr(info, edit(data) if info.filename == keras_zip.VARS_FILENAME else data)


def test_the_fuzzers_hang_is_refused_in_bounded_time(tmp_path):
    path = tmp_path / "m.h5"
    path.write_bytes(HANG_FINDING.read_bytes())
    outcome = load_in_child(path)
    assert outcome["error"] == "ModelFileError", outcome
    assert outcome["seconds"] < MAX_SECONDS
    for words in ("'", "m.h5", "global heap collection at byte 0x3070", "object 0",
                  "declares size 0", "loop forever"):
        assert words in outcome["message"]


@pytest.mark.parametrize("kind", ["h5", "weights.h5", "keras"])
@pytest.mark.parametrize("damage", ["free-space-size-0", "string-past-end"])
def test_damaged_heaps_of_every_kind_are_refused(tmp_path, kind, damage):
    path = tmp_path / f"m.{kind}"
    save(kind, path)
    if damage == "free-space-size-0":
        rewrite(kind, path, lambda d: with_object_size(d, free_space, 0))
        expected = "declares size 0"
    else:
        rewrite(kind, path, lambda d: with_object_size(d, first_string, 2 ** 40))
        expected = "bytes past the collection's end"
    outcome = load_in_child(path)
    assert outcome["error"] == "ModelFileError", outcome
    assert outcome["seconds"] < MAX_SECONDS
    assert expected in outcome["message"] and "m." in outcome["message"]


def test_heap_signature_inside_weights_loads(tmp_path):
    # Kernels whose bytes spell the signature (one with the version and a size past the end
    # of the file): weight data, which the walk skips as libhdf5 would refuse it as a heap.
    path = tmp_path / "m.h5"
    model = make_model()
    fake = b"GCOL" * 3 + b"GCOL\x01\x00\x00\x00" + struct.pack("<Q", 2 ** 40)
    kernel = np.frombuffer(fake + bytes(48 - len(fake)), "<f4").reshape(4, 3)
    model.layers[-1].kernel.assign(kernel)
    model.save(path)
    assert path.read_bytes().count(b"GCOL") > 4
    loaded = keras.saving.load_model(path)
    assert loaded.layers[-1].kernel.numpy().tobytes() == kernel.tobytes()


@pytest.mark.parametrize("kind", ["h5", "weights.h5", "keras"])
def test_whole_heaps_load(tmp_path, kind):
    path = tmp_path / f"m.{kind}"
    model = save(kind, path)
    if kind == "weights.h5":
        loaded = make_model()
        loaded.layers[-1].kernel.assign(np.zeros((4, 3), "float32"))
        loaded.load_weights(path)
    else:
        loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.layers[-1].kernel.numpy(),
                                  model.layers[-1].kernel.numpy())


def test_heaps_in_memory_and_empty_files_are_checked(tmp_path):
    path = tmp_path / "m.h5"
    save("h5", path)
    damaged = with_object_size(path.read_bytes(), free_space, 0)
    with pytest.raises(keras.saving.ModelFileError, match="declares size 0"):
        h5_global_heap.check_global_heaps(io.BytesIO(damaged), "the HDF5 data")
    # A file object with neither a buffer nor a file descriptor behind it.
    stream = io.BufferedReader(io.BytesIO(damaged))
    stream.seek(100)
    with pytest.raises(keras.saving.ModelFileError, match="declares size 0"):
        h5_global_heap.check_global_heaps(stream, "the HDF5 data")
    assert stream.tell() == 100
    with open(path, "rb") as f:
        h5_global_heap.check_global_heaps(f, "'m.h5'")
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    # No superblock: nothing to check here; h5py refuses the file itself.
    h5_global_heap.check_global_heaps(empty, "'empty.h5'")
