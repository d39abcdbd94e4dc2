"""What POST /api/convert does with checked uploads: plan the conversion, run the library's
converter, zip the result. The server runs it in a child process (server/isolation.py); it
reads no server state: everything it needs comes in a `Settings`.

Uploads are written only under the work folder the caller made (and removes); models load in
safe mode, and a model with a Lambda layer is refused before it is loaded at all, so no code
from an upload runs.
"""

import dataclasses
import io
import json
import math
import os
import warnings
import zipfile

from webkeras.saving import tfjs
from webkeras.saving.conversion import uploads
from webkeras.saving.conversion.uploads import JSON, KERAS, SHARD, WEIGHTS, ZIP, Upload, UploadError
from webkeras.saving.keras_zip import CONFIG_FILENAME, VARS_FILENAME
from webkeras.saving.tfjs import format as fmt
from webkeras.utils import file_errors, file_limits
from webkeras.utils.safe_mode import safe_mode_scope

MAX_FILES = 512
MAX_SHARDS = 1000
MAX_WARNINGS = 20
# Warnings meant for the library's developers, not for the person converting a model.
DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                      ResourceWarning)
MAX_MESSAGE_CHARS = 1500

TFJS = "tfjs"
KERAS_OUTPUTS = {"keras": ".keras", "h5": ".h5", "weights.h5": ".weights.h5"}
DOWNLOAD_LABELS = {TFJS: "tfjs", "keras": "keras", "h5": "h5", "weights.h5": "weights"}
INPUT_SUFFIXES = {KERAS: ".keras", uploads.H5: ".h5", WEIGHTS: ".weights.h5"}
MODEL_KINDS = tuple(INPUT_SUFFIXES)
TFJS_MODEL_JSON = "model.json"
MANIFEST_KEY = "weightsManifest"
TOPOLOGY_KEY = "modelTopology"
# Layer classes whose config carries Python code (bytecode, or a function to import).
CODE_LAYERS = ("Lambda",)


@dataclasses.dataclass
class Settings:
    """The server's limits for one conversion (from the app's config)."""

    max_unpacked_bytes: int
    max_config_bytes: int


@dataclasses.dataclass
class Converted:
    """A conversion's answer: the zip, its files [{name, size}], warnings, download name."""

    body: bytes
    listing: list
    warnings: list
    download_name: str


@dataclasses.dataclass
class Options:
    quantize: str = None
    shard_size: int = None
    weights_only: bool = False
    output: str = None


@dataclasses.dataclass
class Job:
    """A checked conversion: `model` is the .keras/.h5/.weights.h5 upload or model.json."""

    model: Upload
    output: str
    options: Options
    stem: str
    shards: list = dataclasses.field(default_factory=list)
    config: Upload = None


# -- deciding what to convert -------------------------------------------------------------------
def _stem(name):
    lower = name.lower()
    for suffix in (".weights.h5", ".keras", ".hdf5", ".h5", ".zip", ".json"):
        if lower.endswith(suffix):
            return name[:-len(suffix)] or "model"
    return name


def _code_layer_names(*configs):
    """Names of Lambda layers anywhere in the given JSON values (iterative: no depth limit)."""
    found, stack = [], list(configs)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("class_name") in CODE_LAYERS or \
                    value.get("registered_name") in CODE_LAYERS:
                config = value.get("config")
                name = config.get("name") if isinstance(config, dict) else None
                found.append(str(name or value.get("name") or value.get("class_name")))
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _refuse_code(source, *configs):
    names = _code_layer_names(*configs)
    if names:
        raise UploadError(
            f"{source} has Lambda layer(s) {sorted(set(names))}: a Lambda layer's function is "
            "Python code, and this server loads models in safe mode, so it never runs code "
            "from an upload. Replace the Lambda with built-in layers, or convert the file "
            "on your own machine with `webkeras convert` if you trust it.")


def _inspect_keras_file(model, limit):
    """(bytes of arrays it holds, its architecture or None), reading nothing unbounded."""
    if model.kind != KERAS:
        return uploads.inspect_hdf5(model.path, model.name, limit)
    archive = uploads.open_zip(model, MAX_FILES, limit)
    members = {}
    for kind, member in ((JSON, CONFIG_FILENAME), (WEIGHTS, VARS_FILENAME)):
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise UploadError(f"'{model.name}' is not a Keras model archive: it has no "
                              f"'{member}' (entries: {archive.namelist()[:10]}).") from None
        # Unpacked beside the upload, under a name of ours.
        path = f"{model.path}.{len(members)}"
        uploads.extract_entry(archive, info, model.name, limit, path)
        members[member] = Upload(f"{model.name}/{member}", path, kind)
    config = uploads.parse_json(members[CONFIG_FILENAME])
    payload, _ = uploads.inspect_hdf5(members[VARS_FILENAME].path,
                                      f"{model.name}/{VARS_FILENAME}", limit)
    return payload, config


def _plan_keras(model, config, options, stem, settings):
    if options.output not in (None, TFJS):
        raise UploadError(f"'{model.name}' is a Keras file: it converts to `output=tfjs`, "
                          f"not {options.output!r} (upload a TF.js model for that).")
    if model.kind == WEIGHTS and config is None:
        raise UploadError(f"'{model.name}' holds weights only: also upload the architecture "
                          "JSON (the model's `model.to_json()`, or a TF.js model.json) in "
                          "field `config`, or select it together with the weights file.")
    if model.kind != WEIGHTS and config is not None:
        raise UploadError(f"'{model.name}' holds its own architecture; an architecture "
                          f"'{config.name}' is only used with a `.weights.h5` file.")
    payload, architecture = _inspect_keras_file(model, settings.max_unpacked_bytes)
    _refuse_code(f"'{model.name}'", architecture)
    if config is not None:
        _refuse_code(f"'{config.name}'", uploads.parse_json(config))
    shard_size = options.shard_size or fmt.DEFAULT_SHARD_SIZE
    if math.ceil(payload / shard_size) > MAX_SHARDS:
        raise UploadError(f"shard_size={shard_size} would cut up to {payload} bytes of "
                          f"weights into up to {math.ceil(payload / shard_size)} shard files; "
                          f"this server writes at most {MAX_SHARDS}: use a shard_size of at "
                          f"least {math.ceil(payload / MAX_SHARDS)} bytes.")
    return Job(model, TFJS, options, stem, config=config)


def _manifest_paths(model_json, name):
    """The shard file names model.json lists, each checked to be a plain file name."""
    manifest = model_json.get(MANIFEST_KEY)
    groups = manifest if isinstance(manifest, list) else []
    paths = []
    for group in groups:
        listed = group.get("paths") if isinstance(group, dict) else None
        for path in listed if isinstance(listed, list) else []:
            if not uploads.is_plain_name(path):
                raise UploadError(f"'{name}' lists weight shard {str(path)[:120]!r} in "
                                  f"`{MANIFEST_KEY}`: expected a plain file name next to "
                                  "model.json (no folders, letters, digits, '.', '-', '_').")
            paths.append(path)
    return paths


def _plan_tfjs(model, shards, config, options, stem):
    if options.quantize or options.shard_size:
        raise UploadError("`quantize` and `shard_size` apply when converting to TF.js; a TF.js "
                          "upload converts to a Keras file.")
    output = options.output or ("weights.h5" if options.weights_only else "keras")
    if output == TFJS:
        raise UploadError(f"'{model.name}' is already a TF.js model; choose `output` "
                          f"{list(KERAS_OUTPUTS)}.")
    if options.weights_only and output != "weights.h5":
        raise UploadError(f"`weights_only` writes a `.weights.h5` file, but `output` is "
                          f"{output!r}.")
    model_json = uploads.parse_json(model)
    _refuse_code(f"'{model.name}'", model_json)
    if config is not None:
        _refuse_code(f"'{config.name}'", uploads.parse_json(config))
    listed = _manifest_paths(model_json, model.name)
    uploaded = {shard.name: shard for shard in shards}
    missing = [path for path in listed if path not in uploaded]
    if missing:
        raise UploadError(f"'{model.name}' lists weight shard(s) {missing} in "
                          f"`{MANIFEST_KEY}`, but they were not uploaded: send every shard "
                          "with model.json (select them all, or zip the folder).")
    extra = sorted(set(uploaded) - set(listed))
    if extra:
        raise UploadError(f"{extra} are not listed in '{model.name}' (its `{MANIFEST_KEY}` "
                          f"lists {listed}); upload only the model's own shards.")
    return Job(model, output, options, stem, shards=[uploaded[p] for p in listed],
               config=config)


def plan(files, config, options, settings):
    """A Job from the uploaded files: one Keras file, or model.json + shards."""
    if not files:
        raise UploadError(f"No file uploaded: send {uploads.EXPECTED_FILES} in field "
                          "`files`.")
    zips = [f for f in files if f.kind == ZIP]
    if zips and len(files) > 1:
        raise UploadError(f"Upload a `.zip` ('{zips[0].name}') on its own: it must hold the "
                          "whole model.")
    if zips:
        files = uploads.unzip(zips[0], MAX_FILES, settings.max_unpacked_bytes)
    models = [f for f in files if f.kind in MODEL_KINDS]
    shards = [f for f in files if f.kind == SHARD]
    jsons = [(f, uploads.parse_json(f)) for f in files if f.kind == JSON]
    tfjs_models = [f for f, value in jsons if MANIFEST_KEY in value or TOPOLOGY_KEY in value]
    configs = [f for f, value in jsons if f not in tfjs_models] + ([config] if config else [])
    if len(configs) > 1:
        raise UploadError(f"Several architecture files: {[c.name for c in configs]}; send "
                          "one.")
    config = configs[0] if configs else None
    if len(models) + len(tfjs_models) > 1:
        raise UploadError(f"Convert one model at a time; received "
                          f"{[f.name for f in models + tfjs_models]}.")
    if models:
        if shards:
            raise UploadError(f"'{models[0].name}' is a Keras file; the TF.js shards "
                              f"{[s.name for s in shards]} do not belong with it.")
        return _plan_keras(models[0], config, options, _stem(models[0].name), settings)
    if tfjs_models:
        stem = _stem(zips[0].name if zips else tfjs_models[0].name)
        return _plan_tfjs(tfjs_models[0], shards, config, options, stem)
    raise UploadError(f"No model among {[f.name for f in files][:10]}: expected "
                      f"{uploads.EXPECTED_FILES}.")


# -- converting ---------------------------------------------------------------------------------
def _place(directory, name, upload):
    """A copy of `upload` at `directory`/`name`, where the converter reads it."""
    os.makedirs(directory, exist_ok=True)
    return upload.copy_to(os.path.join(directory, name))


def _write_config(work, config):
    if config is None:
        return None
    value = uploads.parse_json(config)
    # convert() reads a TF.js architecture by its file name.
    name = TFJS_MODEL_JSON if MANIFEST_KEY in value or TOPOLOGY_KEY in value else "config.json"
    return _place(os.path.join(work, "arch"), name, config)


def _call_converter(*args, **kwargs):
    """`tfjs.convert(*args, **kwargs)` in safe mode; returns its warnings."""
    with safe_mode_scope(True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tfjs.convert(*args, **kwargs)
    return [str(w.message) for w in caught if not issubclass(w.category, DEVELOPER_WARNINGS)]


def _convert(job, work):
    """Runs the library's converter in `work`; returns ([(name, path)] of the output files,
    the converter's warnings)."""
    inputs = os.path.join(work, "in")
    config_path = _write_config(work, job.config)
    options = job.options
    if job.output == TFJS:
        # The library picks the reader by suffix: write the canonical, lower-case one.
        src = _place(inputs, job.stem + INPUT_SUFFIXES[job.model.kind], job.model)
        dst = os.path.join(work, "out")
        shard_size = options.shard_size or fmt.DEFAULT_SHARD_SIZE
        notes = _call_converter(src, dst, quantize=options.quantize, shard_size=shard_size,
                                weights_only=options.weights_only, config=config_path)
        with open(os.path.join(dst, fmt.MODEL_JSON), encoding="utf-8") as f:
            manifest = json.load(f)[fmt.MANIFEST_KEY]
        names = [fmt.MODEL_JSON] + [p for group in manifest for p in group[fmt.PATHS_KEY]]
        return [(name, os.path.join(dst, name)) for name in names], notes
    src = _place(inputs, TFJS_MODEL_JSON, job.model)
    for shard in job.shards:
        _place(inputs, shard.name, shard)
    name = job.stem + KERAS_OUTPUTS[job.output]
    dst = os.path.join(work, "out", name)
    os.makedirs(os.path.dirname(dst))
    notes = _call_converter(src, dst, weights_only=options.weights_only, config=config_path)
    return [(name, dst)], notes


def _public_message(error, work):
    """The library's message (one of its ModelFileErrors) without the work folder's paths."""
    return _public_text(file_errors.message_for_service(
        file_errors.as_model_file_error(error, "")), work)


def _public_text(text, work):
    """`text` without the temporary folder's paths, cut to MAX_MESSAGE_CHARS."""
    for sub in ("in", "arch", "out"):
        text = text.replace(os.path.join(work, sub) + os.sep, "")
    text = text.replace(work, "<upload>")
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + " …"
    return text


def _public_warnings(notes, work):
    """The distinct warnings, in order, at most MAX_WARNINGS, without temporary paths."""
    distinct = list(dict.fromkeys(_public_text(note, work) for note in notes))
    if len(distinct) > MAX_WARNINGS:
        distinct = distinct[:MAX_WARNINGS] + [
            f"... and {len(distinct) - MAX_WARNINGS} more warning(s)."]
    return distinct


def convert(files, config, options, settings, work):
    """The converted upload, zipped.

    Args:
        files, config: the uploaded model files and architecture (`Upload`s).
        options: the form's `Options`.
        settings: the server's `Settings`.
        work: an empty folder for the conversion's files; the caller removes it.

    Raises:
        UploadError: the upload is not a model this server converts (message for the user).
    """
    with file_limits.override(config_bytes=settings.max_config_bytes):
        job = plan(files, config, options, settings)
        try:
            written, notes = _convert(job, work)
        except file_errors.RAW_ERRORS as error:
            raise UploadError(f"Could not convert '{job.model.name}': "
                              f"{_public_message(error, work)}") from None
    buffer = io.BytesIO()
    listing = []
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, path in written:
            method = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            archive.write(path, name, compress_type=method)
            listing.append({"name": name, "size": os.path.getsize(path)})
    return Converted(buffer.getvalue(), listing, _public_warnings(notes, work),
                     f"{job.stem}_{DOWNLOAD_LABELS[job.output]}.zip")
