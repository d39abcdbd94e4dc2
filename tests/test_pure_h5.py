"""webkeras.saving.pure_h5, the tab's h5py: it reads what h5py and Keras 3 write, and h5py and
real Keras 3 read what it writes (natively, where both exist)."""

import io
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import test_saving_interop as interop
import webkeras as keras
from webkeras.saving import keras_zip, pure_h5, weights_h5
from webkeras.saving.h5_format import H5FormatError

REF = Path(__file__).resolve().parent / "reference" / "saving"


def tree(f):
    """{path: (kind, attrs, dtype, shape, bytes)} of an h5py or pure_h5 File."""
    def plain(attrs):
        return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in attrs.items()}

    out = {"/": plain(f.attrs)}

    def walk(group, prefix):
        for key in group:
            node, path = group[key], prefix + key
            if hasattr(node, "keys"):
                out[path] = ("group", plain(node.attrs))
                walk(node, path + "/")
            else:
                value = np.asarray(node[()])
                out[path] = ("dataset", plain(node.attrs), value.dtype.str, value.shape,
                             value.tobytes())

    walk(f, "")
    return out


def weights_member(path):
    with zipfile.ZipFile(path) as zf:
        return zf.read(keras_zip.VARS_FILENAME)


def reference_h5_files():
    files = [(p.name, p.read_bytes()) for p in sorted(REF.glob("*.h5"))]
    files += [(f"{p.name}:{keras_zip.VARS_FILENAME}", weights_member(p))
              for p in sorted(REF.glob("*.keras"))]
    return files


@pytest.fixture
def pure(monkeypatch):
    """webkeras's saving runs on pure_h5, as it does in the tab."""
    monkeypatch.setattr(weights_h5, "_h5py", lambda: pure_h5)


@pytest.mark.parametrize("name, data", reference_h5_files(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_reads_keras_files_like_h5py(name, data):
    # Keras 3's .keras weights, .weights.h5 and legacy .h5 (model_config, vlen string arrays).
    assert tree(pure_h5.File(io.BytesIO(data), "r")) == tree(h5py.File(io.BytesIO(data), "r"))


@pytest.mark.parametrize("name", interop.NAMES)
def test_writes_what_h5py_writes(name, tmp_path, pure, monkeypatch):
    model = keras.saving.load_model(REF / f"{name}.keras")
    model.save(tmp_path / "pure.keras")
    model.save(tmp_path / "pure.h5")
    model.save_weights(tmp_path / "pure.weights.h5")
    monkeypatch.undo()
    model.save(tmp_path / "h5py.keras")
    model.save(tmp_path / "h5py.h5")
    model.save_weights(tmp_path / "h5py.weights.h5")
    # Read back with real h5py: the same groups, attributes and arrays as h5py's own files.
    for suffix in (".h5", ".weights.h5"):
        with h5py.File(tmp_path / f"pure{suffix}") as a, h5py.File(tmp_path / f"h5py{suffix}") as b:
            assert tree(a) == tree(b), suffix
    pure_weights, h5py_weights = (weights_member(tmp_path / f"{k}.keras") for k in ("pure", "h5py"))
    assert tree(h5py.File(io.BytesIO(pure_weights))) == tree(h5py.File(io.BytesIO(h5py_weights)))
    # ... and load (through h5py) into a model that predicts like the original.
    data = np.load(REF / f"{name}.npz")
    xs = [data[k] for k in sorted(data) if k.startswith("x")]
    x = xs if len(xs) > 1 else xs[0]
    expected = model.predict(x, verbose=0)
    for loaded in (keras.saving.load_model(tmp_path / "pure.keras"),
                   keras.saving.load_model(tmp_path / "pure.h5", compile=False)):
        got = loaded.predict(x, verbose=0)
        for a, b in zip(got if isinstance(got, list) else [got],
                        expected if isinstance(expected, list) else [expected]):
            np.testing.assert_array_equal(a, b)


def test_round_trip_in_pure_h5(pure, tmp_path):
    # The tab saves and loads with pure_h5 alone.
    model = keras.saving.load_model(REF / "mlp.keras")
    model.save(tmp_path / "mlp.keras")
    loaded = keras.saving.load_model(tmp_path / "mlp.keras")
    x = np.load(REF / "mlp.npz")["x0"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)


@pytest.mark.skipif(not os.path.exists(interop.PEERS_PY), reason=f"real Keras is not "
                    f"installed ({interop.PEERS_PY} is absent; `make peers-venv`)")
def test_real_keras_reads_pure_h5_files(pure, tmp_path):
    # The live interop round trip (.keras, .h5, .weights.h5 into real Keras 3), every file
    # written by pure_h5.
    interop.test_real_keras_reads_webkeras_files(tmp_path)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "not an HDF5 file"),
        (b"PK\x03\x04" + bytes(100), "not an HDF5 file"),
        (weights_member(REF / "mlp.keras")[:3000], "truncated"),
    ],
)
def test_damaged_bytes_raise_oserror(data, message):
    with pytest.raises(H5FormatError, match=message):
        pure_h5.File(io.BytesIO(data), "r")


def test_damaged_keras_file_gives_load_model_error(pure, tmp_path):
    source = REF / "mlp.keras"
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, data[:2000] if item.filename == keras_zip.VARS_FILENAME else data)
    with pytest.raises(ValueError, match="not a readable HDF5 file.*truncated"):
        keras.saving.load_model(broken)


def test_unsupported_values_are_named():
    with pytest.raises(TypeError, match="'/flags'.*dtype bool"), \
            pure_h5.File(io.BytesIO(), "w") as f:
        f.create_dataset("flags", data=np.array([True, False]))
    with pytest.raises(TypeError, match="Attribute 'when' of '/'.*received dict"), \
            pure_h5.File(io.BytesIO(), "w") as f:
        f.attrs["when"] = {"a": 1}
    with pytest.raises(ValueError, match="mode must be 'r' or 'w'. Received: mode='a'"):
        pure_h5.File(io.BytesIO(), "a")
