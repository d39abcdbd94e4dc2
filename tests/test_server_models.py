"""The /models route (TF.js layers models from the models folder) and the vendored TF.js types."""

import http.client
from urllib.parse import urlsplit

import pytest

from conftest import create_app, serve_app

MODEL_FILES = {
    "mlp/model.json": b'{"format": "layers-model", "weightsManifest": []}',
    "mlp/group1-shard1of2.bin": b"\0\1\2\3",
    "mlp/group1-shard2of2.bin": b"\4\5",
}


@pytest.fixture
def dirs(tmp_path):
    build, models = tmp_path / "build", tmp_path / "models"
    for name, content in MODEL_FILES.items():
        (models / name).parent.mkdir(parents=True, exist_ok=True)
        (models / name).write_bytes(content)
    for name in ("tf.min.js", "tfjs-backend-wasm-simd.wasm"):
        (build / "vendor" / "tfjs").mkdir(parents=True, exist_ok=True)
        (build / "vendor" / "tfjs" / name).write_bytes(b"\0asm\1\0\0\0")
    (tmp_path / "secret.txt").write_text("top secret")
    return build, models


@pytest.fixture
def client(dirs):
    build, models = dirs
    return create_app(data_dir=build, build_dir=build, models_dir=models).test_client()


@pytest.mark.parametrize("name, mime", [
    ("mlp/model.json", "application/json"),
    ("mlp/group1-shard1of2.bin", "application/octet-stream"),
])
def test_serves_model_files(client, name, mime):
    response = client.get(f"/models/{name}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == mime
    assert response.get_data() == MODEL_FILES[name]
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(f"/models/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_missing_model_file_is_a_json_404(client, dirs):
    response = client.get("/models/mlp/group1-shard3of2.bin")
    assert response.status_code == 404
    body = response.get_json()
    assert "mlp/group1-shard3of2.bin" in body["message"] and str(dirs[1]) in body["message"]
    assert "make setup" in body["message"]
    assert body["path"] == "/models/mlp/group1-shard3of2.bin"


def test_models_dir_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBKERAS_MODELS_DIR", raising=False)
    app = create_app(data_dir=tmp_path, build_dir=tmp_path / "build")
    assert app.config["WEBKERAS_MODELS_DIR"] == str(tmp_path / "build" / "models")
    monkeypatch.setenv("WEBKERAS_MODELS_DIR", str(tmp_path / "env-models"))
    app = create_app(data_dir=tmp_path, build_dir=tmp_path / "build")
    assert app.config["WEBKERAS_MODELS_DIR"] == str(tmp_path / "env-models")
    app = create_app(data_dir=tmp_path, build_dir=tmp_path, models_dir=tmp_path / "given")
    assert app.config["WEBKERAS_MODELS_DIR"] == str(tmp_path / "given")


@pytest.mark.parametrize("name, mime", [
    ("tf.min.js", "text/javascript"),
    ("tfjs-backend-wasm-simd.wasm", "application/wasm"),
])
def test_vendored_tfjs_types(client, name, mime):
    # The wasm backend streams-compiles its binary, which browsers allow only as application/wasm.
    response = client.get(f"/vendor/tfjs/{name}")
    assert response.status_code == 200
    assert response.mimetype == mime


@pytest.mark.parametrize("raw_path", [
    "/models/../secret.txt",
    "/models/%2e%2e/secret.txt",
    "/models/..%2fsecret.txt",
    "/models/mlp/..%2f..%2fsecret.txt",
    "/models/mlp/%2e%2e/%2e%2e/secret.txt",
    "/models/mlp/%2e%2e%2f%2e%2e%2fsecret.txt",
])
def test_no_path_traversal(dirs, raw_path):
    build, models = dirs
    with serve_app(create_app(data_dir=build, build_dir=build, models_dir=models)) as url:
        # http.client sends the path byte for byte (no client-side normalisation of "..").
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
        connection.request("GET", raw_path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 404, (raw_path, body[:200])
    assert b"root:" not in body and b"top secret" not in body
