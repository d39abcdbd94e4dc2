"""keras.utils.get_file natively, against the real webkeras server serving a temporary folder.

The app is `create_app(data_dir=...)`, so files are served at /datasets/<name>; a
`before_request` hook counts what each call really asked the server for.
"""

import hashlib
import io
import os
import shutil
import socket
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import webkeras as keras
from conftest import create_app, serve_app
from webkeras.utils.download import FetchError

REFERENCE = Path(__file__).resolve().parent / "reference" / "saving"
MLP = REFERENCE / "mlp.keras"


@pytest.fixture
def served(tmp_path):
    """(base URL of /datasets/, the folder it serves, list of requested paths)."""
    folder = tmp_path / "served"
    folder.mkdir()
    shutil.copy(MLP, folder / "mlp.keras")
    app = create_app(data_dir=folder)
    log = []

    @app.before_request
    def record():
        from flask import request

        log.append(request.path)

    with serve_app(app) as url:
        yield f"{url}/datasets", folder, log


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def digest(path, algorithm="sha256"):
    return hashlib.new(algorithm, Path(path).read_bytes()).hexdigest()


def test_download_then_cache_hit(served, cache):
    base, _, log = served
    path = keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache)
    # fname comes from the origin; the file lands in <cache_dir>/<cache_subdir>.
    assert path == os.path.join(cache, "datasets", "mlp.keras")
    assert Path(path).read_bytes() == MLP.read_bytes()
    assert log == ["/datasets/mlp.keras"]
    again = keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache)
    assert again == path and log == ["/datasets/mlp.keras"]
    # Nothing but the file itself is left in the cache (no partial download).
    assert os.listdir(os.path.dirname(path)) == ["mlp.keras"]


def test_fname_cache_subdir_and_default_home(served, tmp_path, monkeypatch):
    base, _, log = served
    monkeypatch.setenv("WEBKERAS_HOME", str(tmp_path / "home"))
    path = keras.utils.get_file("renamed.keras", f"{base}/mlp.keras", cache_subdir="models")
    assert path == str(tmp_path / "home" / "models" / "renamed.keras")
    assert digest(path) == digest(MLP)
    absolute = tmp_path / "elsewhere"
    path = keras.utils.get_file(origin=f"{base}/mlp.keras", cache_subdir=str(absolute))
    assert path == str(absolute / "mlp.keras") and len(log) == 2


def test_hash_verified(served, cache):
    base, _, log = served
    url = f"{base}/mlp.keras"
    sha256, md5 = digest(MLP), digest(MLP, "md5")
    path = keras.utils.get_file(origin=url, file_hash=sha256, cache_dir=cache)
    # A cached file with the right hash (sha256, md5 by "auto", or the upper-case hex some
    # tools print) is used as is.
    assert keras.utils.get_file(origin=url, file_hash=md5, cache_dir=cache) == path
    assert keras.utils.get_file(origin=url, file_hash=sha256.upper(), cache_dir=cache) == path
    assert keras.utils.get_file(origin=url, md5_hash=md5, cache_dir=cache) == path
    assert len(log) == 1


def test_wrong_hash_raises_and_keeps_nothing(served, cache):
    base, _, log = served
    wrong = "0" * 64
    with pytest.raises(ValueError, match=r"Incomplete or corrupted file detected\. The sha256 "
                       rf"file hash does not match the provided value of {wrong}.*mlp\.keras"):
        keras.utils.get_file(origin=f"{base}/mlp.keras", file_hash=wrong, cache_dir=cache)
    assert len(log) == 1
    assert not (cache / "datasets" / "mlp.keras").exists()


def test_cached_file_with_wrong_hash_is_downloaded_again(served, cache, capsys):
    base, _, log = served
    path = keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache)
    Path(path).write_bytes(MLP.read_bytes()[:1000])  # a truncated download
    again = keras.utils.get_file(origin=f"{base}/mlp.keras", file_hash=digest(MLP),
                                 cache_dir=cache)
    assert again == path and digest(path) == digest(MLP)
    assert len(log) == 2
    assert "hash does not match the original value" in capsys.readouterr().out


def test_force_download(served, cache):
    base, folder, log = served
    path = keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache)
    (folder / "mlp.keras").write_bytes(b"a newer version")
    assert Path(keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache)).read_bytes() \
        == MLP.read_bytes()
    keras.utils.get_file(origin=f"{base}/mlp.keras", cache_dir=cache, force_download=True)
    assert Path(path).read_bytes() == b"a newer version"
    assert len(log) == 2


def test_http_error_names_url_and_status(served, cache):
    base, _, _ = served
    url = f"{base}/missing.keras"
    with pytest.raises(FetchError, match=rf"URL fetch failure on {url}: 404 -- NOT FOUND"):
        keras.utils.get_file(origin=url, cache_dir=cache)
    assert os.listdir(cache / "datasets") == []


def test_unreachable_server(cache):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.keras"
    with pytest.raises(FetchError, match=rf"URL fetch failure on {url}: .*refused"):
        keras.utils.get_file(origin=url, cache_dir=cache)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, 'specify the "origin" argument'),
        ({"origin": "/models/mlp.keras"}, "origin must be an absolute URL"),
        ({"origin": "http://127.0.0.1:1/"}, "Can't parse the file name from the origin"),
        ({"fname": "sub/mlp.keras", "origin": "http://127.0.0.1:1/a"}, "use the `cache_dir`"),
        ({"origin": "http://127.0.0.1:1/a", "file_hash": "abc"}, r"md5 hex digest \(32"),
        ({"origin": "http://127.0.0.1:1/a", "file_hash": "g" * 64}, r"sha256 hex digest \(64"),
        ({"origin": "http://127.0.0.1:1/a", "file_hash": "0" * 32, "hash_algorithm": "sha1"},
         "hash_algorithm must be one of 'auto', 'sha256', 'md5'. Received: hash_algorithm='sha1'"),
    ],
)
def test_bad_arguments(kwargs, message, cache):
    with pytest.raises(ValueError, match=message):
        keras.utils.get_file(cache_dir=cache, **kwargs)


def test_load_model_from_url_predicts_like_the_local_file(served, cache):
    base, _, _ = served
    reference = np.load(REFERENCE / "mlp.npz")
    local = keras.saving.load_model(MLP)
    remote = keras.saving.load_model(keras.utils.get_file(origin=f"{base}/mlp.keras",
                                                          file_hash=digest(MLP), cache_dir=cache))
    x = reference["x0"]
    expected = local.predict(x, verbose=0)
    np.testing.assert_array_equal(remote.predict(x, verbose=0), expected)
    # ... and like Keras 3 itself, which wrote the file.
    np.testing.assert_allclose(expected, reference["y0"], atol=1e-6)


def test_extract_tar_and_zip(served, cache):
    base, folder, log = served
    with tarfile.open(folder / "bundle.tar.gz", "w:gz") as archive:
        archive.add(MLP, arcname="bundle/mlp.keras")
        escape = tarfile.TarInfo("../escaped.txt")
        escape.size = 3
        archive.addfile(escape, io.BytesIO(b"bad"))
    with pytest.warns(UserWarning, match=r"Skipping invalid path .*'\.\./escaped\.txt'"):
        path = keras.utils.get_file("bundle.tar.gz", f"{base}/bundle.tar.gz", extract=True,
                                    cache_dir=cache)
    # Keras's names: "bundle.tar.gz" is kept as is and extracted into "bundle_extracted".
    assert path == os.path.join(cache, "datasets", "bundle_extracted")
    assert digest(os.path.join(path, "bundle", "mlp.keras")) == digest(MLP)
    assert not (cache / "datasets" / "escaped.txt").exists()

    with zipfile.ZipFile(folder / "weights.zip", "w") as archive:
        archive.write(MLP, "mlp.keras")
    path = keras.utils.get_file(origin=f"{base}/weights.zip", extract=True, cache_dir=cache)
    # Without fname: the download is "<name>_archive", the extraction directory "<name>".
    assert path == os.path.join(cache, "datasets", "weights.zip")
    assert os.path.isfile(os.path.join(cache, "datasets", "weights.zip_archive"))
    assert digest(os.path.join(path, "mlp.keras")) == digest(MLP)
    assert log == ["/datasets/bundle.tar.gz", "/datasets/weights.zip"]

    with pytest.warns(UserWarning, match="Could not extract archive"):
        path = keras.utils.get_file("plain", f"{base}/mlp.keras", extract=True,
                                    archive_format="tar", cache_dir=cache)
    assert not os.path.exists(path)


def test_file_url_origin(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x01\x02" * 500)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    path = keras.utils.get_file("copy.bin", origin=source.as_uri(), file_hash=digest,
                                cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == source.read_bytes()
