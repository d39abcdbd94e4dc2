"""The hostile corpus (tests/hostile_corpus.py) through every library loader and through
POST /api/convert: each file is refused with its ModelFileError naming the problem, in
bounded time; nothing outside the model's folder is read (the canary never comes back) or
written (the `outside` folder stays empty), and no code from a file runs. Then the limits that
hold whatever a file does: the server's time, memory and concurrency limits, and the memory
and time a big but legal model takes."""

import io
import json
import subprocess
import sys
import time
import zipfile

import hostile_corpus as corpus
import numpy as np
import pytest
from conftest import REPO_ROOT, create_app
from hostile_corpus import CANARY, CASES, Context

# A refusal comes long before a hang would.
MAX_SECONDS = 10
# What the server says where its own upload rules come first (stricter than the library's).
SERVER_WORDS = {
    "tfjs/shard-dotdot": ("plain file name",), "tfjs/shard-absolute": ("plain file name",),
    "tfjs/shard-url": ("plain file name",), "tfjs/missing-shard": ("not uploaded",),
    # The server's 8 MiB limit on architecture JSON comes before the layer count.
    **{f"{fmt}/many-layers": ("architecture JSON", "8,388,608") for fmt in ("keras", "h5",
                                                                           "tfjs")},
    "tfjs/empty-shard": ("empty",),
    # The server checks an archive's entries before the library opens it.
    **{f"keras/member-{kind}": ("points outside", "m.keras") for kind in (
        "dotdot", "absolute", "assets-dotdot", "backslash-dotdot", "drive-letter")},
}
SERVER_CASES = [name for name, case in CASES.items()
                if case.fmt not in ("json", "yaml", "fit") and case.server and case.error]
# Filled by test_library_refuses, printed at the end of the run (tests/conftest.py).
TALLY = {"cases": 0, "clear errors": 0, "loaded as Keras loads them": 0, "anything else": 0}


def tally_line():
    return "hostile corpus: " + ", ".join(f"{key} {value}" for key, value in TALLY.items())


def assert_nothing_escaped(ctx, *texts):
    assert list(ctx.outside.iterdir()) == [], "a file was written outside the model's folder"
    for text in texts:
        assert CANARY not in text, "the secret file's bytes came back"


@pytest.mark.parametrize("name", list(CASES))
def test_library_refuses(tmp_path, name):
    case, ctx = CASES[name], Context(tmp_path)
    path = corpus.write(case, ctx, tmp_path / "model")
    TALLY["cases"] += 1
    outcome = "anything else"
    start = time.perf_counter()
    try:
        if case.error is None:
            # NaN / Inf weights are data: loaded as stored, as Keras loads them.
            model = corpus.load(case, path)
            assert not np.isfinite(model.layers[-1].kernel.numpy()).any()
            outcome = "loaded as Keras loads them"
            return
        with pytest.raises(case.error) as caught:
            corpus.load(case, path)
        elapsed = time.perf_counter() - start
        message = str(caught.value)
        assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.1f} s to refuse"
        for word in case.words:
            assert word in message, message
        # Files: always the error family; the training API: a plain ValueError / TypeError.
        family = (corpus.ModelFileError, FileNotFoundError) if case.run is None else \
            (ValueError, TypeError)
        assert isinstance(caught.value, family), type(caught.value)
        assert not isinstance(caught.value, (RecursionError, MemoryError))
        assert_nothing_escaped(ctx, message.encode())
        outcome = "clear errors"
    finally:
        TALLY[outcome] += 1


def test_shard_behind_a_symbolic_link_is_refused(tmp_path):
    ctx = Context(tmp_path)
    folder = tmp_path / "model"
    corpus.write(CASES["tfjs/wrong-shard-size"], ctx, folder)
    shard = folder / "group1-shard1of1.bin"
    shard.unlink()
    shard.symlink_to(ctx.secret)
    with pytest.raises(corpus.UnsafeContentError, match="symbolic link"):
        corpus.tfjs.load_tfjs(folder)


def test_tally_of_the_corpus():
    """The corpus's size; the tally of outcomes is printed at the end of the run."""
    formats = {c.fmt for c in CASES.values()}
    assert formats == {"keras", "h5", "weights.h5", "tfjs", "json", "yaml", "fit"}
    assert len(CASES) >= 150


# -- the server --------------------------------------------------------------------------------
@pytest.fixture
def app(tmp_path):
    app = create_app(data_dir=tmp_path / "data", build_dir=tmp_path / "build")
    app.config["WEBKERAS_CONVERT_TMP"] = str(tmp_path / "convert-tmp")
    yield app
    temp_root = tmp_path / "convert-tmp"
    assert not temp_root.exists() or list(temp_root.iterdir()) == []


def post(client, files):
    data = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return client.post("/api/convert", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("name", SERVER_CASES)
def test_server_refuses(app, tmp_path, name):
    case, ctx = CASES[name], Context(tmp_path)
    start = time.perf_counter()
    response = post(app.test_client(), case.build(ctx))
    elapsed = time.perf_counter() - start
    assert response.status_code in (400, 413, 415), response.get_data(as_text=True)
    message = response.get_json()["message"]
    words = SERVER_WORDS.get(name) or getattr(case, "server_words", case.words)
    for word in words:
        assert word in message, message
    assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.1f} s to refuse"
    assert_nothing_escaped(ctx, response.get_data())
    assert str(tmp_path / "convert-tmp") not in message, "the answer leaks a server path"


def big_keras(layers, config_padding=0):
    """The small model's .keras with `layers` ReLU layers after its Dense (weights still
    valid: ReLU has none), optionally with config.json padded by spaces."""
    value = json.loads(corpus.architecture())
    value["config"]["layers"] += [
        {"module": "keras.layers", "class_name": "ReLU", "registered_name": None,
         "config": {"name": f"relu{i}", "trainable": True, "dtype": "float32"}}
        for i in range(layers)]
    text = json.dumps(value).encode() + b" " * config_padding
    original = corpus._saved(".keras")
    return corpus._replace_member(original, "config.json", text, zipfile.ZIP_DEFLATED)


def test_server_stops_a_conversion_over_its_time_limit(app):
    app.config["WEBKERAS_CONVERT_TIMEOUT_S"] = 0.5
    # Building 15,000 layers takes seconds: far past half a second on any machine.
    response = post(app.test_client(), {"big.keras": big_keras(15_000)})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "took longer than 0.5 s" in response.get_json()["message"]
    app.config["WEBKERAS_CONVERT_TIMEOUT_S"] = 60
    assert post(app.test_client(), {"m.keras": corpus._saved(".keras")}).status_code == 200


def test_server_stops_a_conversion_over_its_memory_limit(app):
    app.config.update(WEBKERAS_CONVERT_MAX_MEMORY_BYTES=64 * 1024 ** 2,
                      WEBKERAS_CONVERT_MAX_CONFIG_BYTES=1024 ** 3,
                      WEBKERAS_CONVERT_MAX_UNPACKED_BYTES=1024 ** 3)
    # 300 MB of config.json, a few hundred KB zipped: unpacking it needs more than 64 MiB.
    response = post(app.test_client(), {"fat.keras": big_keras(1, 300 * 1024 ** 2)})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "67,108,864 bytes of memory" in response.get_json()["message"]
    assert post(app.test_client(), {"m.keras": corpus._saved(".keras")}).status_code == 200


def test_server_answers_503_when_every_slot_is_busy(app):
    from webkeras.server import convert_api

    app.config.update(WEBKERAS_CONVERT_MAX_CONCURRENT=1, WEBKERAS_CONVERT_QUEUE_S=0.2)
    with app.app_context():
        slots = convert_api._slots()
    assert slots.acquire(timeout=1)
    try:
        response = post(app.test_client(), {"m.keras": corpus._saved(".keras")})
    finally:
        slots.release()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "1"
    assert "busy" in response.get_json()["message"]
    assert post(app.test_client(), {"m.keras": corpus._saved(".keras")}).status_code == 200


def test_server_converts_a_big_legal_model_in_bounded_time(app):
    start = time.perf_counter()
    response = post(app.test_client(), {"big.keras": big_keras(10_000)})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)
    assert elapsed < 60, f"a 10,000-layer model took {elapsed:.1f} s to convert"


MEASURE = """
import sys, time
sys.path[:0] = [{tests!r}, {py!r}]
import hostile_corpus as corpus
from webkeras.utils.file_errors import FileLimitError
path = sys.argv[1]
start = time.perf_counter()
try:
    corpus.keras.saving.load_model(path)
    outcome = "loaded"
except FileLimitError as error:
    outcome = "refused"
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork + exec.
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(outcome, time.perf_counter() - start, peak)
"""


def measure_load(path):
    """(outcome, seconds, peak RSS bytes) of `load_model(path)` in a fresh interpreter."""
    code = MEASURE.format(tests=str(REPO_ROOT / "tests"), py=str(REPO_ROOT / "py"))
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=300, check=True).stdout.split()
    return out[0], float(out[1]), int(out[2])


def test_inflating_config_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "fat.keras"
    path.write_bytes(big_keras(1, 250 * 1024 ** 2))
    assert path.stat().st_size < 2 * 1024 ** 2
    outcome, seconds, peak = measure_load(path)
    assert outcome == "refused"
    # An interpreter with NumPy and webkeras takes ~100 MB; the 250 MB member is never read.
    assert peak < 400 * 1024 ** 2, f"peak RSS {peak / 1024 ** 2:.0f} MB"
    assert seconds < 5


def test_ten_thousand_layers_load_with_bounded_memory_and_time(tmp_path):
    path = tmp_path / "big.keras"
    path.write_bytes(big_keras(10_000))
    outcome, seconds, peak = measure_load(path)
    assert outcome == "loaded"
    assert peak < 1024 ** 3, f"peak RSS {peak / 1024 ** 2:.0f} MB"
    assert seconds < 60, f"{seconds:.1f} s"
