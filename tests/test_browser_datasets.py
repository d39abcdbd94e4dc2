"""keras.datasets inside the tab: fetched from the server once, then from Cache Storage.

Runs `load_data()` for mnist, fashion_mnist, boston_housing and imdb in the Pyodide worker of
/train, reloads the page, loads them again, and checks on the server's side that the second
time no data file was requested (only the small .sha256 sidecars). A corrupted cache entry
is detected by its sha256 and fetched again.
"""

import json
import os
import textwrap
from urllib.parse import urlsplit

import pytest

from webkeras.server.browser import launch_chromium, run_python, serve_app, wait_ready
from webkeras.utils import file_utils

from conftest import create_app

DATA_FILES = ["mnist.npz", "fashion_mnist.npz", "boston_housing.npz", "imdb.npz",
              "imdb_word_index.json"]

LOAD_ALL = textwrap.dedent(
    """
    import json
    import numpy as np
    import webkeras as keras

    out = {}
    (a, b), (c, d) = keras.datasets.mnist.load_data()
    out["mnist"] = [a.shape, c.shape, str(a.dtype), b[:10].tolist()]
    (a, b), (c, d) = keras.datasets.fashion_mnist.load_data()
    out["fashion_mnist"] = [a.shape, c.shape, str(a.dtype), int(b[0]), np.bincount(b).tolist()]
    (a, b), (c, d) = keras.datasets.boston_housing.load_data()
    out["boston_housing"] = [a.shape, c.shape, str(a.dtype), round(float(b[0]), 3)]
    (a, b), (c, d) = keras.datasets.imdb.load_data(num_words=20000)
    index = keras.datasets.imdb.get_word_index()
    # (np.bincount of int64 labels fails on wasm32, where intp is int32.)
    out["imdb"] = [len(a), len(c), [int((b == k).sum()) for k in (0, 1)],
                   [int((d == k).sum()) for k in (0, 1)],
                   int(a[0][0]), max(max(s) for s in a), index["the"]]
    json.dumps(out)
    """
)

EXPECTED = {
    "mnist": [[60000, 28, 28], [10000, 28, 28], "uint8", [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]],
    "fashion_mnist": [[60000, 28, 28], [10000, 28, 28], "uint8", 9, [6000] * 10],
    "boston_housing": [[404, 13], [102, 13], "float64", 15.2],
    "imdb": [12500, 12500, [6250, 6250], [6250, 6250], 1, 19999, 1],
}

LOAD_TIMEOUT_MS = 300_000


@pytest.fixture
def logged_server():
    """The real app on its own port, with a log of every path requested from it."""
    missing = [n for n in DATA_FILES if not os.path.isfile(os.path.join(file_utils.data_dir(), n))]
    if missing:
        pytest.skip(f"{missing} not in {file_utils.data_dir()}: run `make setup`")
    app = create_app()
    log = []

    @app.before_request
    def record():
        from flask import request

        log.append(request.path)

    with serve_app(app) as url:
        yield url, log


def data_requests(log):
    return sorted(p for p in log if p.startswith("/datasets/") and not p.endswith(".sha256"))


def test_load_data_in_the_tab_is_cached_across_reloads(playwright, tmp_path, logged_server,
                                                      requires_runtime):
    url, log = logged_server
    context = launch_chromium(playwright, tmp_path / "profile")
    local = urlsplit(url).netloc
    context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).netloc
                  == local else route.abort())
    try:
        page = context.new_page()
        page.set_default_timeout(LOAD_TIMEOUT_MS)
        page.goto(url + "/train?backend=numpy")
        wait_ready(page)
        log.clear()
        first = json.loads(run_python(page, LOAD_ALL))
        assert first == EXPECTED
        assert data_requests(log) == sorted(f"/datasets/{n}" for n in DATA_FILES)
        # The page's status line shows what the worker reported about the downloads.
        assert "imdb_word_index.json" in page.text_content("#status")

        log.clear()
        page.reload()
        wait_ready(page)
        second = json.loads(run_python(page, LOAD_ALL))
        assert second == EXPECTED
        assert data_requests(log) == [], "the second load went to the network"
        assert "from the browser cache" in page.text_content("#status")
        stats = json.loads(run_python(
            page, "import js, json\njson.dumps(js.webkerasDatasets.stats.to_py())"))
        assert stats["cacheHits"] == len(DATA_FILES) and stats["downloads"] == 0

        # A corrupted cache entry is never used: detected by its sha256, fetched again.
        page.evaluate(
            """async (url) => {
                const cache = await caches.open("webkeras-datasets-v1");
                await cache.put(url, new Response(new Uint8Array([80, 75, 3, 4, 0])));
            }""",
            url + "/datasets/boston_housing.npz",
        )
        log.clear()
        page.reload()
        wait_ready(page)
        shape = run_python(page, "import webkeras as keras\n"
                                 "str(keras.datasets.boston_housing.load_data()[0][0].shape)")
        assert shape == "(404, 13)"
        assert data_requests(log) == ["/datasets/boston_housing.npz"]
    finally:
        context.close()
