"""Load test of the webkeras server on loopback (issue #19): `make loadtest`.

    .venv/bin/python scripts/loadtest.py [--clients 50] [--requests 1000] [--workers 2]

Starts `webkeras serve --workers N` (gunicorn), then the development server (`webkeras serve`),
each on a free loopback port, and sends each `--requests` requests from `--clients` threads:

- convert: POST /api/convert with a reference model (tests/reference/saving/*.keras / *.h5);
  right when the answer is a zip whose model.json parses and whose model, loaded by webkeras,
  predicts what Keras 3 predicted for the reference input (tests/reference/saving/*.npz);
- range: GET /datasets/<file> with a random `Range: bytes=a-b`; right when 206 with exactly
  those bytes of the file;
- static: GET /static/<file> or a page; right when 200 with the file's bytes.

Counts per kind: right, wrong, 503 (the conversion queue was full: Retry-After), other 5xx,
failed connections; latency p50/p95/p99; the server's memory (RSS of the server process and
all its children) sampled every second. Bounded: every request has a timeout, each server
run a deadline, and the servers are stopped at the end. Writes bench/results/loadtest_<date>.md.
"""

import argparse
import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "py"))

from webkeras.saving import tfjs  # noqa: E402
from webkeras.utils import file_utils  # noqa: E402

REFERENCE = REPO_ROOT / "tests" / "reference" / "saving"
MODELS = ("mlp.keras", "cnn.keras", "functional.h5", "mlp.h5")
STATIC = ("/static/worker.js", "/static/client.js", "/static/webkeras.js", "/", "/convert")
DATASET = "mnist.npz"
# The request mix: fractions of convert / range / static.
MIX = (("convert", 0.25), ("range", 0.4), ("static", 0.35))
REQUEST_TIMEOUT_S = 120
RUN_DEADLINE_S = 900
ATOL = 1e-4


class Expectations:
    """What each answer must hold: reference predictions, file bytes."""

    def __init__(self, data_dir):
        self.models = {}
        for name in MODELS:
            reference = np.load(REFERENCE / (name.rsplit(".", 1)[0] + ".npz"))
            # Inputs x0, x1, ... and outputs y0, y1, ... of Keras 3's predict.
            inputs = [reference[k] for k in sorted(reference.files) if k.startswith("x")]
            outputs = [reference[k] for k in sorted(reference.files) if k.startswith("y")]
            self.models[name] = ((REFERENCE / name).read_bytes(), inputs, outputs)
        self.dataset = (Path(data_dir) / DATASET).read_bytes()
        self.static = {}
        for path in STATIC:
            if path.startswith("/static/"):
                self.static[path] = (REPO_ROOT / "web" / path.removeprefix("/static/")).read_bytes()


def multipart(name, data):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def check_conversion(body, x, y):
    """None if the zip's TF.js model predicts outputs `y` for inputs `x`, else what is wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive, \
                tempfile.TemporaryDirectory() as folder:
            json.loads(archive.read("model.json"))
            archive.extractall(folder)
            model = tfjs.load_tfjs(folder)
            predicted = model.predict(x if len(x) > 1 else x[0], verbose=0)
    except Exception as error:  # noqa: BLE001 (any failure is a wrong answer, reported)
        return f"{type(error).__name__}: {error}"[:200]
    predicted = [np.asarray(p) for p in (predicted if isinstance(predicted, list) else
                                         [predicted])]
    for got, want in zip(predicted, y, strict=False):
        if got.shape != want.shape or not np.allclose(got, want, atol=ATOL):
            return f"predictions differ: shape {got.shape} vs {want.shape}"
    if len(predicted) != len(y):
        return f"{len(predicted)} outputs, expected {len(y)}"
    return None


def one_request(port, kind, expect, rng):
    """(kind, status, seconds, problem or None)."""
    headers, body, method = {}, None, "GET"
    if kind == "convert":
        name = rng.choice(MODELS)
        data, x, y = expect.models[name]
        body, headers["Content-Type"] = multipart(name, data)
        method, path = "POST", "/api/convert"
    elif kind == "range":
        start = rng.randrange(len(expect.dataset) - 1)
        end = min(len(expect.dataset) - 1, start + rng.randrange(1, 1 << 20))
        headers["Range"] = f"bytes={start}-{end}"
        path = f"/datasets/{DATASET}"
    else:
        path = rng.choice(STATIC)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except OSError as error:
        return kind, None, time.perf_counter() - started, f"connection: {error}"
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    status = response.status
    if status >= 500:
        return kind, status, seconds, None
    if kind == "convert":
        problem = f"status {status}: {payload[:200]!r}" if status != 200 else \
            check_conversion(payload, x, y)
    elif kind == "range":
        problem = None if status == 206 and payload == expect.dataset[start:end + 1] else \
            f"status {status}, {len(payload)} bytes for {headers['Range']}"
    else:
        wanted = expect.static.get(path)
        problem = None if status == 200 and (wanted is None or payload == wanted) else \
            f"status {status} for {path}"
    return kind, status, seconds, problem


def process_tree_rss(pid):
    """Resident bytes of process `pid` and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers, data_dir):
    port = free_port()
    command = [str(REPO_ROOT / ".venv" / "bin" / "webkeras"), "serve", "--port", str(port),
               "--data-dir", str(data_dir)]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"the server ({' '.join(command)}) did not start in 60 s")


def stop_server(server):
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_load(label, workers, args, expect):
    server, port = start_server(workers, args.data_dir)
    rng = random.Random(19)
    kinds = rng.choices([k for k, _ in MIX], [w for _, w in MIX], k=args.requests)
    results, lock, memory, done = [], threading.Lock(), [], threading.Event()
    started = time.monotonic()

    def sampler():
        while not done.is_set():
            memory.append((time.monotonic() - started, process_tree_rss(server.pid)))
            done.wait(1.0)

    def client(number):
        client_rng = random.Random(number)
        while time.monotonic() - started < RUN_DEADLINE_S:
            with lock:
                if not kinds:
                    return
                kind = kinds.pop()
            result = one_request(port, kind, expect, client_rng)
            with lock:
                results.append(result)

    threads = [threading.Thread(target=sampler, daemon=True)] + [
        threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads[1:]:
            thread.join(RUN_DEADLINE_S + REQUEST_TIMEOUT_S)
    finally:
        done.set()
        stop_server(server)
    return {"label": label, "results": results, "memory": memory,
            "seconds": time.monotonic() - started, "unsent": len(kinds)}


def percentile(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def summarize(run):
    rows, problems = [], []
    for kind in [k for k, _ in MIX] + ["all"]:
        mine = [r for r in run["results"] if kind in ("all", r[0])]
        times = [r[2] for r in mine]
        right = sum(1 for r in mine if r[1] is not None and r[1] < 500 and r[3] is None)
        wrong = sum(1 for r in mine if r[1] is not None and r[1] < 500 and r[3] is not None)
        busy = sum(1 for r in mine if r[1] == 503)
        other_5xx = sum(1 for r in mine if r[1] is not None and r[1] >= 500 and r[1] != 503)
        failed = sum(1 for r in mine if r[1] is None)
        rows.append(f"| {run['label']} | {kind} | {len(mine)} | {right} | {wrong} | {busy} | "
                    f"{other_5xx} | {failed} | {percentile(times, 50):.3f} | "
                    f"{percentile(times, 95):.3f} | {percentile(times, 99):.3f} |")
        if kind != "all":
            problems += [f"{run['label']} {r[0]}: {r[3]}" for r in mine if r[3]]
    return rows, problems


def memory_line(run):
    samples = run["memory"]
    if not samples:
        return f"| {run['label']} | - | - | - | - |"
    values = [m for _, m in samples]
    step = max(1, len(samples) // 8)
    timeline = ", ".join(f"{t:.0f}s {m / 2 ** 20:.0f}" for t, m in samples[::step])
    return (f"| {run['label']} | {values[0] / 2 ** 20:.0f} | {max(values) / 2 ** 20:.0f} | "
            f"{values[-1] / 2 ** 20:.0f} | {timeline} |")


def report(runs, args):
    lines = [f"# Load test, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             f"`scripts/loadtest.py`: {args.clients} concurrent clients, {args.requests} requests "
             f"per server on loopback; {os.cpu_count()} CPU cores (shared). Mix: "
             + ", ".join(f"{k} {w:.0%}" for k, w in MIX) + f". Models converted: {MODELS}; "
             "every converted zip is opened, its model.json parsed, and the model loaded by "
             f"webkeras must predict Keras 3's reference outputs (atol {ATOL}).", "",
             "| server | kind | requests | right | wrong | 503 busy | other 5xx | failed | "
             "p50 s | p95 s | p99 s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    all_problems = []
    for run in runs:
        rows, problems = summarize(run)
        lines += rows
        all_problems += problems
    lines += ["", "| server | wall s | req/s | unsent |", "|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run['label']} | {run['seconds']:.1f} | "
                     f"{len(run['results']) / run['seconds']:.1f} | {run['unsent']} |")
    lines += ["", "Server memory (RSS of the server and its children, MiB):", "",
              "| server | start | peak | end | over time |", "|---|---|---|---|---|"]
    lines += [memory_line(run) for run in runs]
    if all_problems:
        lines += ["", "Wrong answers (first 20):", ""] + [f"- {p}" for p in all_problems[:20]]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--data-dir", default=file_utils.data_dir())
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "results"))
    args = parser.parse_args()
    expect = Expectations(args.data_dir)
    runs = []
    for label, workers in ((f"gunicorn {args.workers} workers", args.workers),
                           ("development server", 0)):
        print(f"== {label}", file=sys.stderr)
        runs.append(run_load(label, workers, args, expect))
    text = report(runs, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"loadtest_{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text(text)
    print(text)
    print(f"written: {path}", file=sys.stderr)
    bad = sum(1 for run in runs for r in run["results"]
              if r[3] is not None or r[1] is None or (r[1] >= 500 and r[1] != 503))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
