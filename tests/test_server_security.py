"""Every route's answers carry the security headers; only this site's pages may POST; the
server as an operator runs it (gunicorn), and a client that stops sending is dropped."""

import http.client
import io
import socket
import subprocess
import sys
import time

import pytest
from conftest import REPO_ROOT, create_app
from webkeras.server import security

REFERENCE = REPO_ROOT / "tests" / "reference" / "saving" / "mlp.keras"


@pytest.fixture
def client(tmp_path):
    app = create_app(data_dir=tmp_path / "data")
    app.config["WEBKERAS_CONVERT_TMP"] = str(tmp_path / "convert-tmp")
    return app.test_client()


def example_urls(app):
    """One URL per route, with a placeholder for each variable part."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {name: "x" for name in rule.arguments}
        urls.append((rule.rule, next(m for m in ("GET", "POST") if m in rule.methods),
                     app.url_map.bind("localhost").build(rule.endpoint, values)))
    return urls


def assert_secure_headers(response, where):
    for name, value in security.HEADERS.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    assert "'unsafe-inline'" not in security.CONTENT_SECURITY_POLICY.split("script-src")[1] \
        .split(";")[0]


def test_every_route_sends_the_security_headers(client):
    urls = example_urls(client.application)
    assert len(urls) >= 10
    for rule, method, url in urls:
        response = client.open(url, method=method)
        assert_secure_headers(response, f"{method} {rule} -> {response.status_code}")
    # Errors and redirects too.
    assert_secure_headers(client.get("/no-such-page"), "404")
    assert_secure_headers(client.get("/train/"), "redirect")


def test_posts_from_other_sites_pages_are_refused(client):
    data = {"files": [(io.BytesIO(REFERENCE.read_bytes()), "mlp.keras")]}
    response = client.post("/api/convert", data=data, content_type="multipart/form-data",
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "other sites" in response.get_json()["message"]
    data = {"files": [(io.BytesIO(REFERENCE.read_bytes()), "mlp.keras")]}
    same = client.post("/api/convert", data=data, content_type="multipart/form-data",
                       headers={"Origin": "http://localhost"})
    assert same.status_code == 200, same.get_data(as_text=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp_path, *args):
    port = free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115  (closed by the caller's kill)
    process = subprocess.Popen(
        [sys.executable, "-m", "webkeras.server.cli", "serve", "--port", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError((tmp_path / "server.log").read_text())


def post_model(port):
    boundary = "webkerasboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"mlp.keras\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + REFERENCE.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/api/convert", body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_gunicorn_serves_conversions_and_pages(tmp_path):
    process, port = start_server(tmp_path, "--workers", "2")
    try:
        status, headers, body = post_model(port)
        assert status == 200, body[:300]
        assert headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/")
        page = connection.getresponse()
        assert page.status == 200 and b"webkeras" in page.read()
        # No software versions in the Server header.
        assert "/" not in page.getheader("Server", "")
    finally:
        process.kill()
        process.wait()


def test_a_client_that_stops_sending_is_dropped(tmp_path):
    process, port = start_server(tmp_path, "--timeout", "2")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        # Promises 1,000 bytes of body, sends 10, then nothing.
        sock.sendall(b"POST /api/convert HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: multipart/form-data; boundary=b\r\n\r\n0123456789")
        start = time.monotonic()
        while sock.recv(65536):
            pass
        assert time.monotonic() - start < 20, "the server kept the silent connection"
        sock.close()
        status, headers, _ = post_model(port)
        assert status == 200
        assert headers["Server"] == "webkeras"
    finally:
        process.kill()
        process.wait()
