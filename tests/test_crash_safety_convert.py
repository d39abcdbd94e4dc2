"""kill -9 at random moments during a conversion (issue #19): the server answers with a clear
error, its temporary folder is left empty, and the next conversion works.

A conversion runs in a child process forked from the server's forkserver; the test finds that
child in /proc (a new descendant of this process) and SIGKILLs it at a random moment."""

import os
import random
import signal
import sys
import threading
import time

import pytest
from test_hostile_files import big_keras, post

from webkeras.server.app import create_app

KILLS = 10

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="finds the conversion's process in /proc")


def descendants(pid):
    """Every live process below `pid`."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def test_kill_9_during_conversions(tmp_path):
    app = create_app(data_dir=tmp_path / "data", build_dir=tmp_path / "build")
    temp_root = tmp_path / "convert-tmp"
    app.config["WEBKERAS_CONVERT_TMP"] = str(temp_root)
    model = big_keras(3_000)  # a few seconds to convert: room to land a kill inside
    rng = random.Random("kill-convert")
    assert post(app.test_client(), {"m.keras": model}).status_code == 200  # the forkserver
    before = descendants(os.getpid())
    killed = 0
    for _ in range(KILLS):
        answer = {}

        def convert(answer=answer):
            answer["response"] = post(app.test_client(), {"m.keras": model})

        request = threading.Thread(target=convert)
        request.start()
        deadline = time.monotonic() + 30
        while not (new := descendants(os.getpid()) - before) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.5))
        for pid in new:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:  # finished first
                pass
        request.join(60)
        response = answer["response"]
        if response.status_code != 200:
            assert response.status_code == 400, response.get_data(as_text=True)
            assert "was killed" in response.get_json()["message"], response.get_json()
        assert not temp_root.exists() or list(temp_root.iterdir()) == []
    assert killed >= KILLS // 2, f"only {killed} kills landed inside a conversion"
    assert post(app.test_client(), {"m.keras": model}).status_code == 200
    assert list(temp_root.iterdir()) == []
