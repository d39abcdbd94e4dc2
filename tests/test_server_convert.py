"""POST /api/convert: real Keras 3 files (tests/reference/saving) -> TF.js zips that predict
what Keras predicted; TF.js uploads (files or one zip) -> .keras / .h5 / .weights.h5; every
kind of bad upload answered with JSON naming the problem; the temp root left empty."""

import http.client
import io
import json
import uuid
import zipfile
from urllib.parse import urlsplit

import numpy as np
import pytest
import webkeras as keras
from conftest import REPO_ROOT, create_app, serve_app
from interop import reference_error
from webkeras.saving import tfjs

REF = REPO_ROOT / "tests" / "reference" / "saving"
NAMES = ["mlp", "cnn", "functional", "embed_lstm", "gru_rnn", "deconv"]
TOL = 1e-5
FILES_HEADER = "X-Webkeras-Files"
WARNINGS_HEADER = "X-Webkeras-Warnings"
TEMP_ROOT_KEY = "WEBKERAS_CONVERT_TMP"


@pytest.fixture
def temp_root(tmp_path):
    return tmp_path / "convert-tmp"


def make_app(tmp_path, temp_root, **kwargs):
    app = create_app(data_dir=tmp_path / "data", build_dir=tmp_path / "build", **kwargs)
    app.config[TEMP_ROOT_KEY] = str(temp_root)
    return app


@pytest.fixture
def client(tmp_path, temp_root):
    yield make_app(tmp_path, temp_root).test_client()
    # Every upload and output lived in a temporary folder that is gone once answered.
    assert not temp_root.exists() or list(temp_root.iterdir()) == []


def post(client, files, **fields):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    data.update({k: (io.BytesIO(v[1]), v[0]) if isinstance(v, tuple) else v
                 for k, v in fields.items()})
    return client.post("/api/convert", data=data, content_type="multipart/form-data")


def unzip(response):
    """{name: bytes} of a conversion's zip, checked against its X-Webkeras-Files listing."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    listing = json.loads(response.headers[FILES_HEADER])
    assert listing == [{"name": n, "size": len(b)} for n, b in files.items()]
    return files


def write(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return directory


def max_error(model, name):
    return reference_error(model, REF / f"{name}.npz")


def keras_config(name):
    with zipfile.ZipFile(REF / f"{name}.keras") as archive:
        return archive.read("config.json")


def replace_member(keras_bytes, member, content):
    """A copy of a .keras archive with one member's bytes replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(keras_bytes)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, content if info.filename == member else src.read(info))
    return out.getvalue()


def assert_error(response, status, *phrases):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] and body["message"], body
    for phrase in phrases:
        assert phrase in body["message"], body["message"]
    return body["message"]


# -- Keras -> TF.js ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["keras", "h5", "weights.h5"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_to_tfjs_predicts_like_keras(client, tmp_path, name, kind):
    fields = {"config": ("architecture.json", keras_config(name))} if kind == "weights.h5" else {}
    response = post(client, [(f"{name}.{kind}", (REF / f"{name}.{kind}").read_bytes())],
                    **fields)
    files = unzip(response)
    assert response.headers["Content-Disposition"] == f"attachment; filename={name}_tfjs.zip"
    assert list(files) == ["model.json", "group1-shard1of1.bin"]
    model = tfjs.load_tfjs(write(tmp_path / "web", files))
    assert max_error(model, name) <= TOL


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16"])
def test_quantized_weights_within_one_step(client, tmp_path, dtype):
    original = keras.saving.load_model(REF / "cnn.keras")
    files = unzip(post(client, [("cnn.keras", (REF / "cnn.keras").read_bytes())],
                       quantize=dtype))
    manifest = json.loads(files["model.json"])["weightsManifest"][0]["weights"]
    steps = {w["name"]: w["quantization"] for w in manifest}
    assert {q["dtype"] for q in steps.values()} == {dtype}
    floats = sum(int(np.prod(w["shape"])) for w in manifest)
    assert len(files["group1-shard1of1.bin"]) == floats * {"uint8": 1}.get(dtype, 2)
    restored = tfjs.load_tfjs(write(tmp_path / "web", files))
    for layer, back in zip(original.layers, restored.layers):
        names = [w["name"] for w in manifest if w["name"].split("/")[0] == layer.name]
        for name, want, got in zip(names, layer.get_weights(), back.get_weights()):
            if dtype == "float16":
                bound = np.abs(want) * 2.0 ** -11 + 1e-7
            else:
                bound = steps[name]["scale"] / 2 * (1 + 1e-5) + 1e-7
            assert np.all(np.abs(got - want) <= bound), (name, np.abs(got - want).max())


def test_small_shards(client, tmp_path):
    files = unzip(post(client, [("mlp.keras", (REF / "mlp.keras").read_bytes())],
                       shard_size="128"))
    shards = [n for n in files if n != "model.json"]
    assert len(shards) == 7 and shards[0] == "group1-shard1of7.bin"
    assert [len(files[n]) for n in shards[:-1]] == [128] * 6 and len(files[shards[-1]]) <= 128
    assert max_error(tfjs.load_tfjs(write(tmp_path / "web", files)), "mlp") <= TOL


def test_weights_only_tfjs_then_back_with_config(client, tmp_path):
    files = unzip(post(client, [("gru_rnn.keras", (REF / "gru_rnn.keras").read_bytes())],
                       weights_only="true"))
    assert "modelTopology" not in json.loads(files["model.json"])
    back = unzip(post(client, list(files.items()), output="weights.h5",
                      config=("gru_rnn.json", keras_config("gru_rnn"))))
    assert list(back) == ["model.weights.h5"]
    fresh = keras.saving.load_model(REF / "gru_rnn.keras")
    for layer in fresh.layers:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    fresh.load_weights(write(tmp_path / "back", back) / "model.weights.h5")
    assert max_error(fresh, "gru_rnn") <= TOL


def test_converter_warnings_are_returned(client, tmp_path):
    response = post(client, [("gru_rnn.keras", (REF / "gru_rnn.keras").read_bytes())])
    files = unzip(response)
    notes = json.loads(response.headers[WARNINGS_HEADER])
    # The same conversion by the library warns the same, once.
    with pytest.warns(UserWarning) as caught:
        tfjs.convert(REF / "gru_rnn.keras", tmp_path / "expected")
    assert notes == [str(w.message) for w in caught]
    assert len(notes) == 1 and "Layer 'gru'" in notes[0] and "reset_after=True" in notes[0]
    assert max_error(tfjs.load_tfjs(write(tmp_path / "web", files)), "gru_rnn") <= TOL
    # Nothing to warn about: an empty list.
    response = post(client, [("mlp.keras", (REF / "mlp.keras").read_bytes())])
    assert json.loads(response.headers[WARNINGS_HEADER]) == []


# -- TF.js -> Keras ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cnn", "functional", "embed_lstm"])
def test_tfjs_files_to_keras(client, tmp_path, name):
    web = unzip(post(client, [(f"{name}.keras", (REF / f"{name}.keras").read_bytes())],
                     shard_size="256"))
    assert len(web) > 2
    response = post(client, list(web.items()))
    files = unzip(response)
    assert response.headers["Content-Disposition"] == "attachment; filename=model_keras.zip"
    model = keras.saving.load_model(write(tmp_path / "back", files) / "model.keras")
    assert max_error(model, name) <= TOL


@pytest.mark.parametrize("output", ["keras", "h5"])
def test_tfjs_zip_to_keras(client, tmp_path, output):
    web = unzip(post(client, [("deconv.keras", (REF / "deconv.keras").read_bytes())],
                     shard_size="100"))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:  # a folder inside, as zip tools write it
        for name, content in web.items():
            archive.writestr(f"web_model/{name}", content)
        archive.writestr("__MACOSX/web_model/._model.json", b"\0\5\26\7")
    response = post(client, [("web_model.zip", bundle.getvalue())], output=output)
    files = unzip(response)
    assert list(files) == [f"web_model.{output}"]
    model = keras.saving.load_model(write(tmp_path / "back", files) / f"web_model.{output}")
    assert max_error(model, "deconv") <= TOL


# -- bad input ------------------------------------------------------------------------------------
def mlp_web(client, shard_size="256"):
    return unzip(post(client, [("mlp.keras", (REF / "mlp.keras").read_bytes())],
                      shard_size=shard_size))


def test_malformed_model_json(client):
    web = mlp_web(client)
    web["model.json"] = web["model.json"][:-40]
    assert_error(post(client, list(web.items())), 400, "'model.json' is not valid JSON")


def test_missing_shard(client):
    web = mlp_web(client)
    del web["group1-shard2of4.bin"]
    assert_error(post(client, list(web.items())), 400, "'group1-shard2of4.bin'",
                 "not uploaded")


def test_wrong_shard_size(client):
    web = mlp_web(client)
    web["group1-shard3of4.bin"] = web["group1-shard3of4.bin"][:-3]
    assert_error(post(client, list(web.items())), 400,
                 "'group1-shard3of4.bin' has the wrong size")


def test_shard_path_outside_the_folder(client, tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 780)
    web = mlp_web(client, shard_size="100000")
    artifact = json.loads(web["model.json"])
    artifact["weightsManifest"][0]["paths"] = ["../../secret.bin"]
    web["model.json"] = json.dumps(artifact).encode()
    assert_error(post(client, list(web.items())), 400, "'../../secret.bin'",
                 "plain file name")


def test_unknown_layer_class(client):
    config = keras_config("mlp").replace(b'"class_name": "Dense"', b'"class_name": "FancyDense"')
    assert b"FancyDense" in config
    data = replace_member((REF / "mlp.keras").read_bytes(), "config.json", config)
    assert_error(post(client, [("mlp.keras", data)]), 400, "'FancyDense'")


def test_huge_declared_weight_shape(client):
    config = keras_config("mlp").replace(b'"units": 16', b'"units": 1000000000')
    data = replace_member((REF / "mlp.keras").read_bytes(), "config.json", config)
    assert_error(post(client, [("mlp.keras", data)]), 400, "Could not convert 'mlp.keras'",
                 "Variable 'dense/kernel' has shape (8, 1000000000)", "32,000,000,000 bytes")
    web = mlp_web(client)
    web["model.json"] = web["model.json"].replace(b'"units": 16', b'"units": 1000000000')
    assert b"1000000000" in web["model.json"]
    assert_error(post(client, list(web.items())), 400,
                 "Variable 'dense/kernel' has shape (8, 1000000000)")


def test_wrong_weight_shapes(client):
    # A .weights.h5 of one model with the architecture of another.
    assert_error(post(client, [("cnn.weights.h5", (REF / "cnn.weights.h5").read_bytes())],
                      config=("mlp.json", keras_config("mlp"))), 400, "cnn.weights.h5")


def test_weights_without_architecture(client):
    assert_error(post(client, [("mlp.weights.h5", (REF / "mlp.weights.h5").read_bytes())]),
                 400, "holds weights only", "`config`")


def test_truncated_keras_file(client):
    data = (REF / "mlp.keras").read_bytes()
    assert_error(post(client, [("mlp.keras", data[: len(data) // 2])]), 400,
                 "'mlp.keras' is not a readable zip archive")


def test_truncated_h5_file(client):
    data = (REF / "mlp.h5").read_bytes()
    assert_error(post(client, [("mlp.h5", data[:4096])]), 400,
                 "'mlp.h5' is not a readable HDF5 file")


def test_non_model_files(client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    assert_error(post(client, [("cat.png", png)]), 415, "'cat.png' is not a file")
    assert_error(post(client, [("notes.keras", b"just some text\n")]), 400,
                 "'notes.keras' is not a zip archive")
    assert_error(post(client, [("model.json", b"[1, 2, 3]")]), 400, "JSON object")
    assert_error(client.post("/api/convert", json={"files": []}), 415, "multipart/form-data")


def test_zip_entry_outside_the_folder(client, tmp_path):
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("model.json", b"{}")
        archive.writestr("../evil.bin", b"owned")
    assert_error(post(client, [("web.zip", bundle.getvalue())]), 400, "'../evil.bin'",
                 "outside")
    assert not list(tmp_path.rglob("evil.bin"))


def test_zip_bomb(tmp_path, temp_root):
    app = make_app(tmp_path, temp_root)
    app.config["WEBKERAS_CONVERT_MAX_UNPACKED_BYTES"] = 1024 ** 2
    client = app.test_client()
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", b'{"weightsManifest": []}')
        archive.writestr("group1-shard1of1.bin", bytes(16 * 1024 ** 2))
    assert len(bundle.getvalue()) < 64 * 1024
    assert_error(post(client, [("bomb.zip", bundle.getvalue())]), 400, "'bomb.zip'",
                 "1048576-byte limit")
    # The same inside a .keras file.
    keras_bomb = replace_member((REF / "mlp.keras").read_bytes(), "model.weights.h5",
                                bytes(16 * 1024 ** 2))
    assert_error(post(client, [("mlp.keras", keras_bomb)]), 400, "1048576-byte limit")
    assert list(temp_root.iterdir()) == []


def test_upload_over_the_limit_is_413(tmp_path, temp_root):
    client = make_app(tmp_path, temp_root, max_upload_bytes=64 * 1024).test_client()
    message = assert_error(post(client, [("big.keras", b"PK\3\4" + bytes(100 * 1024))]), 413,
                           "65536 bytes")
    assert "big.keras" not in message
    assert post(client, [("mlp.keras", (REF / "mlp.keras").read_bytes())]).status_code == 200


def test_lambda_layer_is_refused(client, tmp_path):
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Lambda(lambda x: x * 2.0, name="doubler"),
                              keras.layers.Dense(2)])
    model.save(tmp_path / "lam.keras")
    data = (tmp_path / "lam.keras").read_bytes()
    assert_error(post(client, [("lam.keras", data)]), 400, "Lambda", "'doubler'", "safe mode")


def test_lambda_naming_a_module_never_imports_it(client, tmp_path, monkeypatch):
    # Loading this Lambda would import convert_probe_mod, which leaves a marker file.
    marker = tmp_path / "imported"
    (tmp_path / "convert_probe_mod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef probe(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = json.loads(keras_config("mlp"))
    config["config"]["layers"].insert(1, {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "probe", "trainable": True, "arguments": {},
                   "function": {"module": "convert_probe_mod", "class_name": "function",
                                "config": "probe", "registered_name": "function"}}})
    data = replace_member((REF / "mlp.keras").read_bytes(), "config.json",
                          json.dumps(config).encode())
    assert_error(post(client, [("mlp.keras", data)]), 400, "'probe'", "safe mode")
    assert not marker.exists()


@pytest.mark.parametrize("fields, phrase", [
    ({"quantize": "int4"}, "`quantize` must be one of"),
    ({"shard_size": "4MB"}, "whole number of bytes"),
    ({"shard_size": "0"}, "between 1 and"),
    ({"shard_size": "1"}, "use a shard_size of at least"),
    ({"output": "keras"}, "converts to `output=tfjs`"),
    ({"output": "onnx"}, "`output` must be one of"),
    ({"weights_only": "maybe"}, "true or false"),
])
def test_bad_options(client, fields, phrase):
    assert_error(post(client, [("mlp.keras", (REF / "mlp.keras").read_bytes())], **fields),
                 400, phrase)


# -- the real server over HTTP --------------------------------------------------------------------
def multipart(files, fields=()):
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f"{value}\r\n".encode())
    for name, content in files:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                      f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                      .encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def http_post(url, body, content_type):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST", "/api/convert", body=body,
                           headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_http_413_then_keeps_serving(tmp_path, temp_root):
    app = make_app(tmp_path, temp_root, max_upload_bytes=1024 ** 2)
    with serve_app(app) as url:
        body, content_type = multipart([("big.keras", b"PK\3\4" + bytes(3 * 1024 ** 2))])
        status, headers, content = http_post(url, body, content_type)
        assert status == 413, content[:300]
        assert headers["Content-Type"] == "application/json"
        assert "at most 1048576 bytes" in json.loads(content)["message"]
        # The same server still converts.
        body, content_type = multipart([("mlp.keras", (REF / "mlp.keras").read_bytes())],
                                       [("quantize", "float16")])
        status, headers, content = http_post(url, body, content_type)
        assert status == 200, content[:300]
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            assert archive.namelist() == ["model.json", "group1-shard1of1.bin"]
        assert json.loads(headers[FILES_HEADER])[0]["name"] == "model.json"
    assert list(temp_root.iterdir()) == []


# -- the page -------------------------------------------------------------------------------------
def test_convert_page_and_limits(client):
    page = client.get("/convert")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'src="/static/convert.js"' in page.get_data()
    assert client.get("/convert/").headers["Location"].endswith("/convert")
    assert b'href="/convert"' in client.get("/").get_data()
    limits = client.get("/api/convert").get_json()
    assert limits["max_upload_bytes"] == 64 * 1024 ** 2
    assert limits["quantize"] == ["uint8", "uint16", "float16"]
    script = client.get("/static/convert.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
