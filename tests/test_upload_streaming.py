"""Uploads stream to disk, never whole into the server's memory (issue #19).

A real server (the app under werkzeug's server, in its own process) receives a 48 MiB upload;
its peak resident memory (VmHWM) grows by far less than the upload, and the conversion's
temporary folder is empty afterwards. The upload is refused after it is received (its bytes
are not an HDF5 file), so what is measured is the receiving alone.
"""

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from conftest import REPO_ROOT

UPLOAD_BYTES = 48 * 1024 ** 2
# Flask, werkzeug and a few chunks of the body; an upload read whole would add 48 MiB.
MAX_GROWTH_BYTES = 12 * 1024 ** 2
SERVER = """
import sys
from server.app import create_app
app = create_app()
app.config["WEBKERAS_CONVERT_TMP"] = sys.argv[2]
app.run("127.0.0.1", int(sys.argv[1]), threaded=True, use_reloader=False)
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the server's memory from /proc")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port, temp_root = free_port(), tmp_path / "convert-tmp"
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(temp_root)],
                               cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'py'}"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield process.pid, port, temp_root
    finally:
        process.terminate()
        process.wait(30)


def peak_rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def post_file(port, name, size):
    """POST /api/convert with one file part of `size` bytes, sent in 1 MiB pieces."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.putrequest("POST", "/api/convert")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    piece = b"x" * (1 << 20)
    for start in range(0, size, len(piece)):
        connection.send(piece[:size - start])
    connection.send(tail)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_a_large_upload_is_never_whole_in_memory(server):
    pid, port, temp_root = server
    # The first request imports and warms what every request uses.
    status, body = post_file(port, "small.h5", 1000)
    assert status == 400 and b"not an HDF5 file" in body
    before = peak_rss(pid)
    status, body = post_file(port, "big.h5", UPLOAD_BYTES)
    assert status == 400 and b"not an HDF5 file" in body, body[:300]
    growth = peak_rss(pid) - before
    assert growth < MAX_GROWTH_BYTES, f"peak RSS grew by {growth / 2 ** 20:.1f} MiB"
    # The upload was on disk under the conversion's folder, removed with it.
    assert list(temp_root.iterdir()) == []
