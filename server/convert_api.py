"""POST /api/convert: Keras model files <-> TF.js layers models, answered as a zip; the
/convert page.

    curl -F files=@mlp.keras -F quantize=uint8 http://127.0.0.1:8000/api/convert -o mlp.zip
    curl -F files=@model.json -F files=@group1-shard1of1.bin -F output=h5 ...
    curl -F files=@mlp.weights.h5 -F config=@mlp.json ...

Form fields: `files` (one `.keras` / `.h5` / `.weights.h5` file; or a TF.js `model.json` with
its shards; or one `.zip` of those), `config` (the architecture JSON for `.weights.h5` or
weights-only TF.js input), `quantize` (uint8 | uint16 | float16), `shard_size` (bytes),
`weights_only`, `output` (`tfjs` for Keras input; `keras`, `h5` or `weights.h5` for TF.js
input). The answer's `X-Webkeras-Files` header lists its files as JSON `[{name, size}]`;
`X-Webkeras-Warnings` lists, as a JSON array of strings, what the converter warned about (a
GRU with `reset_after=True` that TF.js cannot load, renamed nested-model weights...).
Errors are JSON `{error, message}`: 400 bad input, 413 too large, 415 not a model file.

Uploads are checked (webkeras.saving.conversion.uploads) before a parser reads them, written
only under a fresh temporary folder (its root: `app.config["WEBKERAS_CONVERT_TMP"]`) that is removed
before the answer goes out, and loaded in safe mode. Each file part of the form streams
straight into that folder as it arrives: no upload is ever whole in the server's memory. A
model with a Lambda layer is refused before it is loaded at all, so no code from an upload
runs. Everything after reading the form (unzipping, parsing, converting) runs in a child
process with a time and a memory limit (server/isolation.py), at most
`WEBKERAS_CONVERT_MAX_CONCURRENT` at once; a request that finds no free slot within
`WEBKERAS_CONVERT_QUEUE_S` gets 503 with Retry-After.
"""

import io
import json
import os
import tempfile
import threading

from flask import Blueprint, Request, current_app, jsonify, redirect, request, send_file
from webkeras.saving.conversion import jobs as convert_jobs
from webkeras.saving.conversion import uploads
from webkeras.saving.conversion.jobs import (
    KERAS_OUTPUTS,
    MAX_FILES,
    MAX_SHARDS,
    TFJS,
    Options,
    Settings,
)
from webkeras.saving.conversion.uploads import JSON, Upload, UploadError
from webkeras.saving.tfjs import format as fmt
from werkzeug.exceptions import RequestEntityTooLarge

from . import isolation

DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 ** 2
TEMP_ROOT_KEY = "WEBKERAS_CONVERT_TMP"
# The server's limits, each an app.config key with its default.
LIMIT_DEFAULTS = {
    "WEBKERAS_CONVERT_MAX_UNPACKED_BYTES": 256 * 1024 ** 2,
    # Far above a real architecture (a ResNet-152 config is ~0.5 MB), far below what would
    # take memory: a parsed JSON needs ~5x its text.
    "WEBKERAS_CONVERT_MAX_CONFIG_BYTES": 8 * 1024 ** 2,
    "WEBKERAS_CONVERT_TIMEOUT_S": 60,
    "WEBKERAS_CONVERT_MAX_MEMORY_BYTES": 2 * 1024 ** 3,
    "WEBKERAS_CONVERT_MAX_CONCURRENT": 2,
    "WEBKERAS_CONVERT_QUEUE_S": 30,
}
MAX_SHARD_SIZE = 1024 ** 3
FILES_HEADER = "X-Webkeras-Files"
WARNINGS_HEADER = "X-Webkeras-Warnings"
UPLOAD_FOLDER = "upload"
TRUE_VALUES, FALSE_VALUES = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")
STATUS_NAMES = {400: "bad request", 413: "request entity too large",
                415: "unsupported media type", 503: "service unavailable"}

convert_api = Blueprint("convert_api", __name__)
_slots_lock = threading.Lock()


class UploadRequest(Request):
    """Writes each multipart file part straight to disk, never holding it in memory (werkzeug
    keeps parts up to 500 KiB in memory): into `upload_dir` (the conversion's work folder)
    once the route has set it, else as an unnamed file under the convert temp root."""

    upload_dir = None

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        if self.upload_dir:
            # Removed with the work folder, whatever happens to the request.
            return tempfile.NamedTemporaryFile(mode="wb+", dir=self.upload_dir, delete=False)
        return tempfile.TemporaryFile(mode="wb+", dir=_temp_root())


# -- routes -------------------------------------------------------------------------------------
@convert_api.get("/convert")
def convert_page():
    from .app import serve_file

    return serve_file(current_app.config["WEBKERAS_WEB_DIR"], "convert.html")


@convert_api.get("/convert/")
def convert_page_slash():
    return redirect("/convert")


@convert_api.get("/api/convert")
def convert_limits():
    """What POST /api/convert accepts (the page checks sizes before uploading)."""
    return jsonify(max_upload_bytes=current_app.config.get("MAX_CONTENT_LENGTH"),
                   max_unpacked_bytes=_limit("WEBKERAS_CONVERT_MAX_UNPACKED_BYTES"),
                   max_files=MAX_FILES,
                   max_shards=MAX_SHARDS, default_shard_size=fmt.DEFAULT_SHARD_SIZE,
                   quantize=list(fmt.QUANTIZE_DTYPES),
                   outputs={"keras": [TFJS], "tfjs": list(KERAS_OUTPUTS)})


@convert_api.post("/api/convert")
def convert_upload():
    try:
        with tempfile.TemporaryDirectory(prefix="webkeras-convert-", dir=_temp_root()) as work:
            files, config = _read_form(work)
            options = _options(request.form)
            result = _convert_isolated(files, config, options, work)
    except UploadError as error:
        response = jsonify(error=STATUS_NAMES[error.status], message=str(error),
                           path=request.path)
        response.status_code = error.status
        if error.status == 503:
            response.headers["Retry-After"] = str(max(1, round(_limit("WEBKERAS_CONVERT_QUEUE_S"))))
        return response
    response = send_file(io.BytesIO(result.body), mimetype="application/zip",
                         as_attachment=True, download_name=result.download_name)
    response.headers[FILES_HEADER] = json.dumps(result.listing)
    # JSON escapes non-ASCII and newlines: the header stays a single latin-1 line.
    response.headers[WARNINGS_HEADER] = json.dumps(result.warnings)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- running a conversion -----------------------------------------------------------------------
def _limit(key):
    value = current_app.config.get(key)
    return LIMIT_DEFAULTS[key] if value is None else value


def _slots():
    """This app's semaphore of conversion slots."""
    with _slots_lock:
        slots = current_app.extensions.get("webkeras_convert_slots")
        if slots is None:
            slots = threading.BoundedSemaphore(_limit("WEBKERAS_CONVERT_MAX_CONCURRENT"))
            current_app.extensions["webkeras_convert_slots"] = slots
    return slots


def _convert_isolated(files, config, options, work):
    """convert_jobs.convert in a child process, once a slot is free, in folder `work`."""
    slots = _slots()
    if not slots.acquire(timeout=_limit("WEBKERAS_CONVERT_QUEUE_S")):
        raise UploadError("The server is busy converting other models; try again in a "
                          "moment.", status=503)
    settings = Settings(max_unpacked_bytes=_limit("WEBKERAS_CONVERT_MAX_UNPACKED_BYTES"),
                        max_config_bytes=_limit("WEBKERAS_CONVERT_MAX_CONFIG_BYTES"))
    timeout_s = _limit("WEBKERAS_CONVERT_TIMEOUT_S")
    try:
        return isolation.run(convert_jobs.convert, (files, config, options, settings, work),
                             timeout_s, _limit("WEBKERAS_CONVERT_MAX_MEMORY_BYTES"))
    except isolation.LimitExceeded as error:
        current_app.logger.warning("convert: %s stopped: %s", _names(files), error)
        raise UploadError(f"Could not convert {_names(files)}: {error}, over this server's "
                          "limit for one conversion. A model this big or this slow to read "
                          "converts on your own machine with `webkeras convert`.") from None
    except RuntimeError as error:
        current_app.logger.error("convert: %s failed: %s", _names(files), error)
        raise UploadError(f"Could not convert {_names(files)}: the converter failed on it "
                          "(the server's log has the details).") from None
    finally:
        slots.release()


def _names(files):
    return ", ".join(f"'{f.name}'" for f in files[:5]) or "the upload"


# -- reading the request ------------------------------------------------------------------------
def _temp_root():
    root = current_app.config.get(TEMP_ROOT_KEY)
    if root:
        os.makedirs(root, exist_ok=True)
    return root


def _too_large_message():
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        return (f"The upload is {request.content_length} bytes; this server accepts at most "
                f"{limit} bytes ({limit / 1024 ** 2:.0f} MiB) per conversion.")
    return (f"The upload is over this server's limits (at most {limit} bytes in all, "
            f"{request.max_form_memory_size} bytes per text field, {request.max_form_parts} "
            "parts): send the architecture JSON as a file part.")


def _read_form(work):
    """(model file Uploads, config Upload or None) from the multipart body, whose files are
    written into `work`/upload/ as the body is read."""
    if request.mimetype != "multipart/form-data":
        raise UploadError("Expected a multipart/form-data upload with the model file(s) in "
                          f"field `files`; received Content-Type "
                          f"{request.content_type or 'none'}.", status=415)
    upload_dir = os.path.join(work, UPLOAD_FOLDER)
    os.mkdir(upload_dir)
    request.upload_dir = upload_dir
    try:
        parts = [(field, part) for field, part in request.files.items(multi=True)
                 if part.filename]
        config_text = request.form.get("config")
    except RequestEntityTooLarge:
        raise UploadError(_too_large_message(), status=413) from None
    if len(parts) > MAX_FILES:
        raise UploadError(f"{len(parts)} files uploaded; at most {MAX_FILES} are accepted.")
    files, configs = [], []
    for field, part in parts:
        # The part's file under upload_dir, written by UploadRequest; flushed to be read.
        part.stream.flush()
        if field == "config":
            configs.append(uploads.make_upload(part.filename, part.stream.name, kind=JSON))
        else:
            files.append(uploads.make_upload(part.filename, part.stream.name))
    if config_text:
        path = os.path.join(upload_dir, "config-field")
        with open(path, "x", encoding="utf-8") as f:
            f.write(config_text)
        configs.append(Upload("config", path, JSON))
    if len(configs) > 1:
        raise UploadError("Send one architecture in field `config`; received "
                          f"{len(configs)}.")
    return files, configs[0] if configs else None


def _flag(form, key):
    value = form.get(key, "").strip().lower()
    if value not in TRUE_VALUES + FALSE_VALUES:
        raise UploadError(f"`{key}` must be true or false; received {value[:40]!r}.")
    return value in TRUE_VALUES


def _options(form):
    quantize = form.get("quantize", "").strip().lower() or None
    if quantize is not None and quantize not in fmt.QUANTIZE_DTYPES:
        raise UploadError(f"`quantize` must be one of {list(fmt.QUANTIZE_DTYPES)} or empty; "
                          f"received {quantize[:40]!r}.")
    shard_text = form.get("shard_size", "").strip()
    shard_size = None
    if shard_text:
        try:
            shard_size = int(shard_text)
        except ValueError:
            raise UploadError("`shard_size` must be a whole number of bytes; received "
                              f"{shard_text[:40]!r}.") from None
        if not 1 <= shard_size <= MAX_SHARD_SIZE:
            raise UploadError(f"`shard_size` must be between 1 and {MAX_SHARD_SIZE} bytes; "
                              f"received {shard_size}.")
    output = form.get("output", "").strip().lower() or None
    if output is not None and output != TFJS and output not in KERAS_OUTPUTS:
        raise UploadError(f"`output` must be one of {[TFJS, *KERAS_OUTPUTS]}; received "
                          f"{output[:40]!r}.")
    return Options(quantize, shard_size, _flag(form, "weights_only"), output)
