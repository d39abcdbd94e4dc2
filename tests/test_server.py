"""The Flask server: MIME types, caching headers, conditional GET, 404s, no path traversal."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from conftest import create_app, serve_app

try:
    from webkeras.server import cli
except ImportError:
    from server import cli

FILES = {
    "pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
    "pyodide/pyodide.mjs": b"export const loadPyodide = 1;\n",
    "pyodide/pyodide-lock.json": b'{"packages": {}}',
    "pyodide/webkeras-0.1.0-py3-none-any.whl": b"PK\3\4 not really a wheel",
    "vendor/chart.umd.min.js": b"window.Chart = 1;\n",
}


@pytest.fixture
def dirs(tmp_path):
    build, data, secret = tmp_path / "build", tmp_path / "data", tmp_path / "secret.txt"
    for name, content in FILES.items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_bytes(content)
    data.mkdir()
    (data / "mnist.npz").write_bytes(b"PK fake npz")
    secret.write_text("top secret")
    return build, data


@pytest.fixture
def client(dirs):
    build, data = dirs
    app = create_app(data_dir=data, build_dir=build)
    return app.test_client()


@pytest.mark.parametrize(
    "path, mime",
    [
        ("/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/pyodide/pyodide.mjs", "text/javascript"),
        ("/pyodide/pyodide-lock.json", "application/json"),
        ("/pyodide/webkeras-0.1.0-py3-none-any.whl", "application/zip"),
        ("/vendor/chart.umd.min.js", "text/javascript"),
        ("/static/worker.js", "text/javascript"),
        ("/static/gpu_bridge.js", "text/javascript"),
        ("/static/style.css", "text/css"),
        ("/train", "text/html"),
        ("/predict", "text/html"),
        ("/webkeras.js", "text/javascript"),
        ("/static/model_api.py", "text/x-python"),
        ("/", "text/html"),
        ("/datasets/mnist.npz", "application/octet-stream"),
    ],
)
def test_mime_types(client, path, mime):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == mime


def test_etag_and_conditional_get(client):
    first = client.get("/static/worker.js")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/worker.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    changed = client.get("/static/worker.js", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_cache_control(client):
    assert "max-age=604800" in client.get("/pyodide/pyodide.asm.wasm").headers["Cache-Control"]
    # Rebuilt under the same name by `make setup`: always revalidated.
    wheel = client.get("/pyodide/webkeras-0.1.0-py3-none-any.whl")
    assert wheel.headers["Cache-Control"] == "no-cache"
    assert client.get("/pyodide/pyodide-lock.json").headers["Cache-Control"] == "no-cache"
    assert client.get("/datasets/mnist.npz").headers["Cache-Control"] == "no-cache"


def test_missing_dataset_is_a_clear_404(client, dirs):
    response = client.get("/datasets/cifar10.npz")
    assert response.status_code == 404
    body = response.get_json()
    assert "cifar10.npz" in body["message"] and str(dirs[1]) in body["message"]
    assert "make setup" in body["message"]


def test_missing_build_is_a_clear_404(tmp_path):
    app = create_app(data_dir=tmp_path, build_dir=tmp_path / "nowhere")
    response = app.test_client().get("/pyodide/pyodide.mjs")
    assert response.status_code == 404
    assert "make setup" in response.get_json()["message"]


def test_api_datasets(client):
    body = client.get("/api/datasets").get_json()
    assert body["datasets"] == [{"name": "mnist.npz", "size": len(b"PK fake npz")}]


def test_api_runtime(client):
    body = client.get("/api/runtime").get_json()
    assert body == {"webkeras_wheel": "webkeras-0.1.0-py3-none-any.whl", "webkeras_in_lock": False}


@pytest.mark.parametrize(
    "raw_path",
    [
        "/datasets/../../etc/passwd",
        "/datasets/..%2f..%2f..%2fetc%2fpasswd",
        "/datasets/%2e%2e/secret.txt",
        "/datasets/..",
        "/pyodide/../../secret.txt",
        "/pyodide/%2e%2e/%2e%2e/secret.txt",
        "/static/../server/app.py",
        "/static/%2e%2e/server/app.py",
        "/vendor/..%2f..%2fsecret.txt",
    ],
)
def test_no_path_traversal(dirs, raw_path):
    build, data = dirs
    with serve_app(create_app(data_dir=data, build_dir=build)) as url:
        # http.client sends the path byte for byte (no client-side normalisation of "..").
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
        connection.request("GET", raw_path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 404, (raw_path, body[:200])
    assert b"root:" not in body and b"top secret" not in body and b"create_app" not in body


def test_not_found_is_json(client):
    response = client.get("/static/no-such-file.js")
    assert response.status_code == 404
    assert json.loads(response.get_data())["path"] == "/static/no-such-file.js"


def test_cli_parser():
    args = cli.build_parser().parse_args(["serve", "--port", "8123"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 8123)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([])
