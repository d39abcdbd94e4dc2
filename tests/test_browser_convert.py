"""The /convert page in headless Chromium: a real Keras 3 file in, the TF.js files listed with
their sizes and offered as a zip; a bad file shows the server's message."""

import json
import warnings
import zipfile

from conftest import REPO_ROOT
from webkeras.saving import tfjs

REF = REPO_ROOT / "tests" / "reference" / "saving"
TIMEOUT_MS = 60_000


def table_rows(page):
    return page.eval_on_selector_all(
        "#file-rows tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")


def test_convert_keras_file(open_page, tmp_path, results_dir):
    page = open_page("/convert")
    page.wait_for_function("window.webkerasConvert && window.webkerasConvert.ready")
    page.set_input_files("#files", str(REF / "cnn.keras"))
    assert "Keras → TF.js" in page.text_content("#status")
    assert page.is_disabled("#output option[value='keras']")
    page.select_option("#quantize", "uint8")
    page.fill("#shard-size", "100")
    page.click("#convert")
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=TIMEOUT_MS)
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    assert page.locator("#warnings").is_hidden()

    # The same conversion by the library gives the files and sizes the page lists.
    expected = tfjs.convert(REF / "cnn.keras", tmp_path / "expected", quantize="uint8",
                            shard_size=100)
    with open(expected, encoding="utf-8") as f:
        manifest = json.load(f)["weightsManifest"][0]["paths"]
    names = ["model.json"] + manifest
    sizes = [(tmp_path / "expected" / n).stat().st_size for n in names]
    rows = table_rows(page)
    assert [r[0] for r in rows] == names and len(names) >= 3
    assert [int(r[1].replace(",", "")) for r in rows] == sizes
    assert page.text_content("#total-bytes").replace(",", "") == str(sum(sizes))

    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == "cnn_tfjs.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert archive.namelist() == names
    page.screenshot(path=str(results_dir / "convert.png"), full_page=True)
    assert not [m for m in page.console_messages_seen if m.startswith(("error", "pageerror"))]


def test_convert_shows_converter_warnings(open_page, tmp_path, results_dir):
    page = open_page("/convert")
    page.wait_for_function("window.webkerasConvert && window.webkerasConvert.ready")
    page.set_input_files("#files", str(REF / "gru_rnn.keras"))
    page.click("#convert")
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=TIMEOUT_MS)
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    assert page.locator("#warnings").is_visible()
    shown = page.eval_on_selector_all("#warning-list li", "items => items.map(i => i.textContent)")
    # What the library warns for the same conversion, word for word.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tfjs.convert(REF / "gru_rnn.keras", tmp_path / "expected")
    assert shown == [str(w.message) for w in caught] and "reset_after=True" in shown[0]
    page.screenshot(path=str(results_dir / "convert-warnings.png"), full_page=True)
    # Another file clears the note; a model with nothing to warn about shows none.
    page.set_input_files("#files", str(REF / "mlp.keras"))
    assert page.locator("#warnings").is_hidden()
    page.click("#convert")
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=TIMEOUT_MS)
    assert page.locator("#error").is_hidden(), page.text_content("#error")
    assert page.locator("#warnings").is_hidden()
    assert page.eval_on_selector_all("#warning-list li", "items => items.length") == 0


def test_convert_shows_server_error(open_page, tmp_path, results_dir):
    page = open_page("/convert")
    page.wait_for_function("window.webkerasConvert && window.webkerasConvert.ready")
    truncated = tmp_path / "broken.keras"
    truncated.write_bytes((REF / "mlp.keras").read_bytes()[:5000])
    page.set_input_files("#files", str(truncated))
    page.click("#convert")
    page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    text = page.text_content("#error")
    assert text.startswith("400 bad request: 'broken.keras' is not a readable zip archive"), text
    assert page.locator("#result").is_hidden()
    page.screenshot(path=str(results_dir / "convert-error.png"), full_page=True)
