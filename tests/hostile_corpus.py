"""A corpus of hostile model files, generated: each case is a model file (`.keras`, legacy
`.h5`, `.weights.h5`, TF.js model.json + shards, or a `to_json()` architecture) crafted to
make a loader read, write or run something beyond the file, or to exhaust memory or time.

Every case names the error webkeras must answer with (a class of the ModelFileError family, or
FileNotFoundError for a missing shard) and words its message must hold. A secret file with a
canary string stands outside the model's folder; cases that point at it must never return its
bytes. `python tests/hostile_corpus.py DIR` writes the corpus to DIR to look at.

    case = CASES["keras/external-storage"]
    files = case.build(Context(tmp_path))      # {relative path: bytes} of the upload
"""

import dataclasses
import io
import json
import os
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT / "py") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "py"))

import webkeras as keras  # noqa: E402
from webkeras.saving import tfjs  # noqa: E402
from webkeras.saving.keras_zip import CONFIG_FILENAME, VARS_FILENAME  # noqa: E402
from webkeras.utils.file_errors import (  # noqa: E402
    FileLimitError,
    ModelFileError,
    UnknownObjectError,
    UnsafeContentError,
)

CANARY = b"WEBKERAS-CANARY-7f3a9c2e51d84b06a1c3e5f7092b4d68"
KERNEL = "layers/dense/vars/0"
LEGACY_KERNEL = "model_weights/dense/dense/kernel"
MiB = 1024 ** 2


class Context:
    """Where a case's files point: `secret` (the canary's bytes, outside the model's folder),
    `secret_h5` (an HDF5 file of canary-valued floats) and `outside` (a folder that must
    stay empty)."""

    def __init__(self, root):
        self.root = Path(root)
        self.secret = self.root / "secret.txt"
        self.secret_h5 = self.root / "secret.h5"
        self.outside = self.root / "outside"
        self.outside.mkdir(parents=True, exist_ok=True)
        self.secret.write_bytes(CANARY * 4)
        with h5py.File(self.secret_h5, "w") as f:
            f["data"] = np.frombuffer(CANARY[:48], "<f4").reshape(4, 3)


@dataclasses.dataclass
class Case:
    name: str           # "<format>/<attack>"
    build: callable     # Context -> {relative path: bytes}; the model file comes first
    error: type         # what the library raises (None: it loads, as Keras loads it)
    words: tuple        # what its message (and the server's) must say
    server: bool = True  # whether the case can be sent to POST /api/convert as files
    run: callable = None  # for training API cases ("fit/..."): the call that must refuse

    @property
    def fmt(self):
        return self.name.split("/")[0]


# -- a small real model in every format -----------------------------------------------------------
def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense")],
                            name="sequential")


def _saved(suffix):
    """The bytes of the small model saved as `suffix` (".keras", ".h5", ".weights.h5")."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m" + suffix)
        model = _model()
        model.save_weights(path) if suffix == ".weights.h5" else model.save(path)
        return Path(path).read_bytes()


def architecture():
    return _model().to_json().encode()


def _tfjs_files():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tfjs.save_tfjs(_model(), folder)
        return {name: Path(folder, name).read_bytes() for name in sorted(os.listdir(folder))}


def _edit_h5(data, edit):
    """`data` (HDF5 bytes) after `edit(h5py.File)`."""
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as f:
        edit(f)
    return buffer.getvalue()


def _replace_member(keras_bytes, member, content, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(keras_bytes)) as src, \
            zipfile.ZipFile(out, "w", compression=compression) as dst:
        for info in src.infolist():
            data = content if info.filename == member else src.read(info)
            dst.writestr(info.filename, data, compress_type=compression)
    return out.getvalue()


def _keras_weights(keras_bytes):
    with zipfile.ZipFile(io.BytesIO(keras_bytes)) as archive:
        return archive.read(VARS_FILENAME)


# -- HDF5 attacks, for every HDF5-holding format --------------------------------------------------
def _hdf5_case(fmt, attack, edit, error, words):
    """A case whose model file's kernel dataset is replaced by `edit(file, path, ctx)`."""
    suffix = {"keras": ".keras", "h5": ".h5", "weights.h5": ".weights.h5"}[fmt]
    path = LEGACY_KERNEL if fmt == "h5" else KERNEL

    def build(ctx):
        original = _saved(suffix)

        def apply(f):
            del f[path]
            edit(f, path, ctx)

        if fmt == "keras":
            weights = _edit_h5(_keras_weights(original), apply)
            files = {"m.keras": _replace_member(original, VARS_FILENAME, weights)}
        else:
            files = {f"m{suffix}": _edit_h5(original, apply)}
        if fmt == "weights.h5":
            files["config.json"] = architecture()
        return files

    # Every message names the dataset or link (all of them under the layer 'dense').
    return Case(f"{fmt}/{attack}", build, error, words + ("dense",))


def _external_storage(f, path, ctx):
    f.create_dataset(path, (4, 3), "<f4", external=[(str(ctx.secret), 0, 48)])


def _external_link(f, path, ctx):
    f[path] = h5py.ExternalLink(str(ctx.secret_h5), "/data")


def _soft_link(f, path, ctx):
    group = path.rsplit("/", 1)[0]
    f[path] = h5py.SoftLink(f"/{group}/{next(iter(f[group]))}")


def _soft_link_loop(f, path, ctx):
    f[path] = h5py.SoftLink("/" + path)


def _virtual(f, path, ctx):
    layout = h5py.VirtualLayout(shape=(4, 3), dtype="<f4")
    layout[:] = h5py.VirtualSource(str(ctx.secret_h5), "data", shape=(4, 3))
    f.create_virtual_dataset(path, layout)


def _hard_link_loop(f, path, ctx):
    f[path] = np.zeros((4, 3), "<f4")
    group = path.rsplit("/", 2)[0]
    f[group + "/loop"] = f[group]


def _huge_shape(f, path, ctx):
    # Declared, never written: HDF5 allocates nothing until data comes.
    f.create_dataset(path, (10 ** 6, 10 ** 6), "<f4")


HDF5_ATTACKS = [
    ("external-storage", _external_storage, UnsafeContentError, ("external",)),
    ("external-link", _external_link, UnsafeContentError, ("link",)),
    ("soft-link", _soft_link, UnsafeContentError, ("link",)),
    ("soft-link-loop", _soft_link_loop, UnsafeContentError, ("link",)),
    ("virtual-dataset", _virtual, UnsafeContentError, ("virtual",)),
    ("hard-link-loop", _hard_link_loop, UnsafeContentError, ("loop",)),
    ("huge-declared-shape", _huge_shape, FileLimitError, ("limit",)),
]


# -- architecture attacks, for every format that carries one -------------------------------------
def _lambda_entry(function, arguments=None):
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "evil", "trainable": True, "dtype": "float32",
                       "function": function, "arguments": arguments or {},
                       "output_shape": None}}


def _get_file_lambda(ctx):
    # Keras's own 2025 hole: a Keras function named by module, called while the model builds.
    return _lambda_entry(
        {"module": "webkeras.utils.download", "class_name": "function", "config": "get_file",
         "registered_name": "function"},
        {"fname": "evil.pth", "origin": ctx.secret.as_uri(), "cache_dir": str(ctx.outside)})


def _bytecode_lambda(ctx):
    import base64
    import marshal

    def evil(x):
        open(os.path.join(str(ctx.outside), "ran"), "w").close()  # noqa: SIM115
        return x

    code = base64.b64encode(marshal.dumps(evil.__code__)).decode()
    return _lambda_entry({"class_name": "__lambda__",
                          "config": {"code": code, "defaults": None, "closure": None}})


def _with_layers(extra):
    """The small model's config with `extra(ctx)` layer entries appended (a function)."""
    def config(ctx):
        value = json.loads(architecture())
        value["config"]["layers"] += extra(ctx)
        return json.dumps(value)
    return config


def _deep_config(ctx):
    text = architecture().decode()
    depth = 5000
    return text.replace('"trainable": true', f'"trainable": true, "x": {"[" * depth}'
                        f'{"]" * depth}', 1)


def _many_layers(ctx):
    value = json.loads(architecture())
    dense = value["config"]["layers"][-1]
    value["config"]["layers"] += [dict(dense, config=dict(dense["config"], name=f"d{i}"))
                                  for i in range(30_000)]
    return json.dumps(value)


def _unknown_class(ctx):
    value = json.loads(architecture())
    value["config"]["layers"][-1]["class_name"] = "os.system"
    return json.dumps(value)


def _wrong_types(ctx):
    value = json.loads(architecture())
    value["config"]["layers"] = {"not": "a list"}
    return json.dumps(value)


CONFIG_ATTACKS = [
    ("lambda-get-file", _with_layers(lambda ctx: [_get_file_lambda(ctx)]),
     UnsafeContentError, ("get_file",)),
    ("lambda-bytecode", _with_layers(lambda ctx: [_bytecode_lambda(ctx)]), ModelFileError,
     ("safe_mode",)),
    ("deep-nesting", _deep_config, FileLimitError, ("deep",)),
    ("many-layers", _many_layers, FileLimitError, ("layers",)),
    ("unknown-class", _unknown_class, UnknownObjectError, ("os.system",)),
    ("wrong-types", _wrong_types, ModelFileError, ("layers",)),
]


def _config_case(fmt, attack, config, error, words):
    def build(ctx):
        text = config(ctx)
        if fmt == "json":
            return {"model.keras.json": text.encode()}
        if fmt == "keras":
            return {"m.keras": _replace_member(_saved(".keras"), CONFIG_FILENAME, text.encode())}
        if fmt == "h5":
            def edit(f):
                f.attrs["model_config"] = text
            return {"m.h5": _edit_h5(_saved(".h5"), edit)}
        files = _tfjs_files()
        artifact = json.loads(files["model.json"])
        artifact["modelTopology"] = {"model_config": json.loads(text)} \
            if attack != "deep-nesting" else "__DEEP__"
        model_json = json.dumps(artifact)
        if attack == "deep-nesting":
            model_json = model_json.replace('"__DEEP__"',
                                            json.dumps({"model_config": "__X__"}))
            model_json = model_json.replace('"__X__"', text)
        files["model.json"] = model_json.encode()
        return dict(sorted(files.items(), key=lambda kv: kv[0] != "model.json"))

    # The server refuses every Lambda before loading (its own, stricter rule).
    words_server = ("Lambda",) if attack.startswith("lambda") else words
    case = Case(f"{fmt}/{attack}", build, error, words)
    case.server_words = words_server
    return case


# -- archive attacks -------------------------------------------------------------------------------
def _inflating_config(ctx):
    """A .keras whose config.json is 100 MB of spaces around a valid config (~100 KB zipped)."""
    text = architecture() + b" " * (100 * MiB)
    return {"m.keras": _replace_member(_saved(".keras"), CONFIG_FILENAME, text,
                                       zipfile.ZIP_DEFLATED)}


def _weights_bomb(ctx):
    """A .keras whose weights member inflates 1000-fold (zeros after a real HDF5 file)."""
    weights = _keras_weights(_saved(".keras")) + bytes(20 * MiB)
    return {"m.keras": _replace_member(_saved(".keras"), VARS_FILENAME, weights,
                                       zipfile.ZIP_DEFLATED)}


# -- TF.js shard paths -----------------------------------------------------------------------------
def _shard_path(make):
    def build(ctx):
        files = _tfjs_files()
        artifact = json.loads(files["model.json"])
        artifact["weightsManifest"][0]["paths"] = [make(ctx)]
        files["model.json"] = json.dumps(artifact).encode()
        return files
    return build


def _wrong_shard_size(ctx):
    files = _tfjs_files()
    shard = [n for n in files if n.endswith(".bin")][0]
    files[shard] = files[shard] + CANARY
    return files


def _missing_shard(ctx):
    return {"model.json": _tfjs_files()["model.json"]}


TFJS_CASES = [
    Case("tfjs/shard-dotdot", _shard_path(lambda ctx: "../secret.txt"), UnsafeContentError,
         ("..",)),
    Case("tfjs/shard-absolute", _shard_path(lambda ctx: str(ctx.secret)), UnsafeContentError,
         ("absolute",)),
    Case("tfjs/shard-url", _shard_path(lambda ctx: "http://127.0.0.1:9/w.bin"),
         UnsafeContentError, ("URL",)),
    Case("tfjs/wrong-shard-size", _wrong_shard_size, ModelFileError, ("wrong size",)),
    Case("tfjs/missing-shard", _missing_shard, FileNotFoundError, ("group1-shard1of1.bin",)),
]


def _all_cases():
    cases = []
    for fmt in ("keras", "h5", "weights.h5"):
        cases += [_hdf5_case(fmt, *attack) for attack in HDF5_ATTACKS]
    for fmt in ("keras", "h5", "tfjs", "json"):
        cases += [_config_case(fmt, *attack) for attack in CONFIG_ATTACKS]
    cases += [Case("keras/inflating-config", _inflating_config, FileLimitError,
                   ("config.json",)),
              Case("keras/weights-bomb", _weights_bomb, FileLimitError, ("ratio",))]
    cases += TFJS_CASES
    # Damaged and malformed files, and nonsense through fit / predict (tests/hostile_damage.py).
    import hostile_damage

    cases += hostile_damage.cases()
    return {case.name: case for case in cases}


CASES = _all_cases()


def write(case, ctx, folder):
    """Writes the case's files into `folder`; returns the path a loader opens."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = case.build(ctx)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / next(iter(files), "")


def load(case, path):
    """Loads `path` with the library loader for the case's format (safe mode, defaults)."""
    if case.run is not None:
        return case.run()
    if case.fmt == "weights.h5":
        model = keras.models.model_from_json(architecture().decode())
        model.load_weights(path)
        return model
    if case.fmt == "tfjs":
        return tfjs.load_tfjs(path.parent)
    if case.fmt == "json":
        return keras.models.model_from_json(path.read_bytes())
    if case.fmt == "yaml":
        return keras.models.model_from_yaml(path.read_bytes())
    return keras.saving.load_model(path)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    context = Context(target / "_context")
    for case in CASES.values():
        print(write(case, context, target / case.name.replace("/", "__")))
