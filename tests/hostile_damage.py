"""The hostile corpus's second half (tests/hostile_corpus.py collects both): damaged and
malformed files rather than files reaching outside themselves.

Empty, truncated and bit-flipped (seeded) files of every format; `.keras` archives with
member names that leave the archive or archives inside archives; HDF5 datasets of the wrong
type or shape where weights are expected; TF.js manifests with bad shapes, dtypes and
quantization parameters; architectures that declare nonsense; and data of the wrong dtype or
shape through `fit` / `predict`.

NaN and Inf *weights* are data, not damage: Keras loads them as stored, and so does webkeras
(the `tfjs/nan-weights` and `tfjs/inf-weights` cases expect a load, `error=None`). NaN, Inf,
zero or negative *quantization parameters* are damage: they would silently turn every
weight of a tensor into NaN, a constant or its mirror image, so they are refused.
"""

import functools
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import h5py
import numpy as np

import hostile_corpus as base
from hostile_corpus import (Case, FileLimitError, ModelFileError,
                            UnsafeContentError)

FORMATS = ("keras", "h5", "weights.h5", "tfjs", "json", "yaml")
SEED = 19


# -- pristine files of every format (cached: building them is the slow part) --------------------
@functools.cache
def _pristine(fmt, quantize=None):
    """{relative path: bytes} of the small model in `fmt`, the loaded file first."""
    if fmt == "keras":
        return {"m.keras": base._saved(".keras")}
    if fmt == "h5":
        return {"m.h5": base._saved(".h5")}
    if fmt == "weights.h5":
        return {"m.weights.h5": base._saved(".weights.h5"), "config.json": base.architecture()}
    if fmt == "json":
        return {"model.keras.json": base.architecture()}
    if fmt == "yaml":
        return {"model.yaml": base._model().to_yaml().encode()}
    with tempfile.TemporaryDirectory() as folder:
        base.tfjs.save_tfjs(base._model(), folder, quantize=quantize)
        files = {name: Path(folder, name).read_bytes() for name in sorted(os.listdir(folder))}
    return dict(sorted(files.items(), key=lambda kv: kv[0] != "model.json"))


def _with(fmt, member, transform, quantize=None):
    """A build function: the pristine files of `fmt` with `member` (default: the loaded
    file) replaced by `transform(bytes)`."""
    def build(ctx):
        files = dict(_pristine(fmt, quantize))
        name = member or next(iter(files))
        files[name] = transform(files[name])
        return files
    return build


def _shard_name(fmt="tfjs"):
    return next(n for n in _pristine(fmt) if n.endswith(".bin"))


# -- empty, truncated, bit-flipped -------------------------------------------------------------
def _truncate(fraction):
    return lambda data: data[:int(len(data) * fraction)] if fraction < 1 else data[:-1]


def _flip_bits(region, count, seed):
    """Flips `count` seeded bits at offsets `region(data)` -> (start, stop)."""
    def transform(data):
        start, stop = region(data)
        rng = np.random.default_rng(seed)
        out = bytearray(data)
        for offset in rng.integers(start, stop, size=count):
            out[offset] ^= 1 << int(rng.integers(0, 8))
        return bytes(out)
    return transform


def _zip_member_data(name):
    """The byte range of member `name`'s stored data in a zip (a flip there fails its CRC)."""
    def region(data):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(name)
        header = info.header_offset
        name_len = int.from_bytes(data[header + 26:header + 28], "little")
        extra_len = int.from_bytes(data[header + 28:header + 30], "little")
        start = header + 30 + name_len + extra_len
        return start, start + info.compress_size
    return region


def _hdf5_metadata(data):
    # The superblock and the root group's object header: every HDF5 file starts with them.
    return 0, 96


def _text(data):
    return 0, len(data)


DAMAGE_WORDS = {
    "keras": ("m.keras",), "h5": ("m.h5",), "weights.h5": ("m.weights.h5",),
    "tfjs": ("model.json",), "json": ("model JSON",), "yaml": ("model YAML",),
}


def _damage_cases():
    cases = []
    for fmt in FORMATS:
        words = DAMAGE_WORDS[fmt]
        cases.append(Case(f"{fmt}/empty-file", _with(fmt, None, lambda d: b""),
                          ModelFileError, words))
        # Text formats end in a newline, whose loss changes nothing: cut them at 90 %.
        last = ("truncated-90pct", 0.9) if fmt in ("json", "tfjs") else \
            ("truncated-quarter", 0.25) if fmt == "yaml" else ("truncated-last-byte", 1)
        for label, fraction in (("truncated-10pct", 0.1), ("truncated-half", 0.5), last):
            cases.append(Case(f"{fmt}/{label}", _with(fmt, None, _truncate(fraction)),
                              ModelFileError, words))
    # Shards of a TF.js model: the manifest decides their size.
    shard = _shard_name()
    for label, transform in (("empty-shard", lambda d: b""), ("truncated-shard", _truncate(0.5)),
                             ("shard-one-byte-long", lambda d: d + b"\0")):
        cases.append(Case(f"tfjs/{label}", _with("tfjs", shard, transform), ModelFileError,
                          ("wrong size", shard)))
    # Bit flips, seeded: where a checksum or a structure guarantees they are seen.
    for member in (base.CONFIG_FILENAME, "metadata.json", base.VARS_FILENAME):
        for n, count in enumerate((1, 8)):
            cases.append(Case(
                f"keras/bit-flip-{member.split('.')[0]}-{count}",
                _with("keras", None, _flip_bits(_zip_member_data(member), count, SEED + n)),
                ModelFileError, ("m.keras", member)))
    for fmt in ("h5", "weights.h5"):
        for n in range(3):
            cases.append(Case(f"{fmt}/bit-flip-superblock-{n}",
                              _with(fmt, None, _flip_bits(_hdf5_metadata, 4, SEED + n)),
                              ModelFileError, DAMAGE_WORDS[fmt]))
    for fmt in ("tfjs", "json", "yaml"):
        for n in range(2):
            cases.append(Case(f"{fmt}/bit-flip-text-{n}",
                              _with(fmt, None, _flip_bits(_text, 24, SEED + n)),
                              ModelFileError, DAMAGE_WORDS[fmt]))
    return cases


# -- archives -----------------------------------------------------------------------------------
def _add_member(name, content=b"x", symlink=False):
    def transform(data):
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a") as archive:
            info = zipfile.ZipInfo(name)
            if symlink:
                info.create_system = 3
                info.external_attr = 0o120777 << 16
            archive.writestr(info, content)
        return out.getvalue()
    return transform


def _zip_of(name):
    def transform(data):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(name, data)
        return out.getvalue()
    return transform


def _nested_weights(data):
    """The weights member replaced by a zip holding the real weights file."""
    inner = _zip_of(base.VARS_FILENAME)(base._keras_weights(data))
    return base._replace_member(data, base.VARS_FILENAME, inner)


def _archive_cases():
    names = [("member-dotdot", "../evil.txt"), ("member-absolute", "/tmp/evil.txt"),
             ("member-assets-dotdot", "assets/../../evil.txt"),
             ("member-backslash-dotdot", "..\\evil.txt"),
             ("member-drive-letter", "C:/evil.txt")]
    cases = [Case(f"keras/{label}", _with("keras", None, _add_member(name)),
                  UnsafeContentError, ("m.keras", "member", "outside", repr(name)))
             for label, name in names]
    cases.append(Case("keras/member-symlink", _with("keras", None, _add_member(
        "assets/link", b"/etc/passwd", symlink=True)), UnsafeContentError,
        ("m.keras", "symbolic link", "assets/link")))
    cases.append(Case("keras/keras-inside-zip", _with("keras", None, _zip_of("m.keras")),
                      ModelFileError, ("m.keras", "config.json")))
    cases.append(Case("keras/zip-as-weights", _with("keras", None, _nested_weights),
                      ModelFileError, ("m.keras", base.VARS_FILENAME)))
    return cases


# -- HDF5 datasets of the wrong type or shape where weights are expected ----------------------
def _kernel_as(make):
    def edit(f, path, ctx):
        make(f, path)
    return edit


HDF5_DTYPES = [
    ("weights-vlen-strings", lambda f, p: f.create_dataset(
        p, data=np.array(["a"] * 12, dtype=object).reshape(4, 3),
        dtype=h5py.string_dtype())),
    ("weights-fixed-strings", lambda f, p: f.create_dataset(p, data=np.full((4, 3), b"abcd"))),
    ("weights-compound", lambda f, p: f.create_dataset(
        p, data=np.zeros((4, 3), dtype=[("a", "<f4"), ("b", "<i4")]))),
    ("weights-object-references", lambda f, p: f.create_dataset(
        p, (4, 3), dtype=h5py.ref_dtype)),
    ("weights-opaque", lambda f, p: f.create_dataset(p, data=np.zeros((4, 3), "V8"))),
    ("weights-wrong-shape", lambda f, p: f.create_dataset(p, data=np.zeros((5, 3), "<f4"))),
    ("weights-scalar", lambda f, p: f.create_dataset(p, data=np.float32(1.0))),
]


def _hdf5_dtype_cases():
    return [base._hdf5_case(fmt, attack, _kernel_as(make), ModelFileError, ("kernel",)
                            if fmt == "h5" else ())
            for fmt in ("keras", "h5", "weights.h5") for attack, make in HDF5_DTYPES]


# -- TF.js manifests ------------------------------------------------------------------------------
def _manifest_edit(edit, quantize=None):
    def transform(data):
        artifact = json.loads(data)
        edit(artifact["weightsManifest"][0]["weights"][0], artifact)
        return json.dumps(artifact).encode()
    return _with("tfjs", "model.json", transform, quantize)


def _set(**fields):
    def edit(spec, artifact):
        for key, value in fields.items():
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
    return edit


def _quant(**fields):
    def edit(spec, artifact):
        spec["quantization"].update(fields)
        for key, value in fields.items():
            if value is None:
                del spec["quantization"][key]
    return edit


def _shard_values(value):
    """The float32 shard with every weight `value` (NaN or Inf: data, loaded as is)."""
    return _with("tfjs", _shard_name(), lambda d: np.full(len(d) // 4, value, "<f4").tobytes())


def _tfjs_cases():
    q = "uint8"
    quant = [
        ("quant-scale-zero", _quant(scale=0.0), ("scale",)),
        ("quant-scale-negative", _quant(scale=-0.5), ("scale",)),
        ("quant-scale-nan", _quant(scale=float("nan")), ("scale",)),
        ("quant-scale-inf", _quant(scale=float("inf")), ("scale",)),
        ("quant-min-nan", _quant(min=float("nan")), ("min",)),
        ("quant-min-inf", _quant(min=float("-inf")), ("min",)),
        ("quant-scale-string", _quant(scale="0.1"), ("scale",)),
        ("quant-scale-missing", _quant(scale=None), ("scale",)),
        ("quant-unknown-dtype", _quant(dtype="uint4"), ("uint4",)),
        ("quant-not-a-dict", _set(quantization="uint8"), ("quantization",)),
    ]
    cases = [Case(f"tfjs/{label}", _manifest_edit(edit, q), ModelFileError,
                  ("model.json",) + words) for label, edit, words in quant]
    manifest = [
        ("dtype-float64", _set(dtype="float64"), ("float64",)),
        ("dtype-string", _set(dtype="string"), ("string",)),
        ("shape-negative", _set(shape=[-4, 3]), ("shape",)),
        ("shape-float", _set(shape=[4.0, 3]), ("shape",)),
        ("shape-not-a-list", _set(shape="4x3"), ("shape",)),
        ("shape-huge", _set(shape=[2 ** 31, 2 ** 31]), ("limit",)),
        ("weight-name-missing", _set(name=None), ("name",)),
        ("manifest-not-a-list", lambda spec, a: a.update(weightsManifest={"paths": []}),
         ("weightsManifest",)),
        ("topology-missing", lambda spec, a: a.pop("modelTopology"), ("modelTopology",)),
        ("weight-shape-mismatch", _set(shape=[3, 4]), ("shape",)),
    ]
    cases += [Case(f"tfjs/{label}", _manifest_edit(edit), FileLimitError
                   if label == "shape-huge" else ModelFileError, ("model.json",) + words)
              for label, edit, words in manifest]
    cases += [Case("tfjs/nan-weights", _shard_values(np.nan), None, ()),
              Case("tfjs/inf-weights", _shard_values(np.inf), None, ())]
    return cases


# -- architectures that declare nonsense ---------------------------------------------------------
def _layer_edit(**fields):
    def transform(data):
        value = json.loads(data)
        value["config"]["layers"][-1]["config"].update(fields)
        return json.dumps(value).encode()
    return transform


def _json_cases():
    edits = [
        ("units-negative", _layer_edit(units=-3), ("units",)),
        ("units-zero", _layer_edit(units=0), ("units",)),
        ("units-string", _layer_edit(units="three"), ("units",)),
        ("units-float", _layer_edit(units=3.5), ("units",)),
        ("units-huge", _layer_edit(units=2 ** 40), ("limit", "dense/kernel")),
        ("dtype-unknown", _layer_edit(dtype="complex_evil"), ("complex_evil",)),
        ("not-an-object", lambda d: b"[1, 2, 3]", ("JSON object",)),
        ("nan-literal", lambda d: d.replace(b'"units": 3', b'"units": NaN'), ("units",)),
    ]
    cases = [Case(f"json/{label}", _with("json", None, edit),
                  FileLimitError if label == "units-huge" else ModelFileError,
                  words if label == "units-huge" else ("model JSON",) + words)
             for label, edit, words in edits]
    yaml_cases = [
        ("python-tag", b"!!python/object/apply:os.system ['echo pwned']\n", ("python",)),
        ("alias-bomb", b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n".encode()
            for p, c in zip("abcdefgh", "bcdefghi")) + b"config: *i\n", ("anchors",)),
        ("not-a-mapping", b"- 1\n- 2\n", ("object",)),
        ("deep-nesting", b"[" * 5000 + b"]" * 5000, ("deep",)),
    ]
    cases += [Case(f"yaml/{label}", _with("yaml", None, lambda d, t=text: t),
                   ModelFileError, ("model YAML",) + words)
              for label, text, words in yaml_cases]
    return cases


# -- wrong dtypes and shapes through fit / predict -----------------------------------------------
def _fit(x, y=None, method="fit", **kwargs):
    def run():
        model = base._model()
        model.compile("sgd", "mse")
        args = (x,) if method == "predict" else (x, y)
        return getattr(model, method)(*args, verbose=0, **kwargs)
    return run


X = np.zeros((6, 4), "float32")
Y = np.zeros((6, 3), "float32")

FIT_CASES = [
    ("x-strings", _fit(np.full((6, 4), "a"), Y), ValueError, ("`x`", "<U1")),
    ("x-objects", _fit(np.full((6, 4), None, dtype=object), Y), ValueError, ("`x`", "object")),
    ("x-complex", _fit(X + 1j, Y), ValueError, ("`x`", "complex")),
    ("x-wrong-features", _fit(np.zeros((6, 5)), Y), ValueError, ("expected axis -1", "4")),
    ("x-rank-1", _fit(np.zeros(6), Y), ValueError, ("dense",)),
    ("y-wrong-length", _fit(X, Y[:4]), ValueError, ("x sizes: [6]", "y sizes: [4]")),
    ("y-wrong-width", _fit(X, np.zeros((6, 7))), ValueError, ("(6, 7)", "(6, 3)")),
    ("sample-weight-wrong-length", _fit(X, Y, sample_weight=np.ones(2)), ValueError,
     ("`sample_weight`", "2")),
    ("sample-weight-strings", _fit(X, Y, sample_weight=np.full(6, "w")), TypeError,
     ("`sample_weight`",)),
    ("x-none", _fit(None, Y), ValueError, ("x=None",)),
    ("predict-strings", _fit(np.full((6, 4), "a"), method="predict"), ValueError, ("`x`",)),
    ("predict-nan-batch-size", _fit(X, method="predict", batch_size=float("nan")), TypeError,
     ("`batch_size`",)),
]


def _fit_cases():
    return [Case(f"fit/{label}", lambda ctx: {}, error, words, server=False, run=run)
            for label, run, error, words in FIT_CASES]


# -- what fuzzing found (scripts/fuzz_loaders.py saves each crash there) ---------------------------
FINDINGS = Path(__file__).resolve().parent / "fuzz_findings"


def _finding_cases():
    cases = []
    for fmt in FORMATS:
        # Hangs are named by their format (libFuzzer's "timeout-" after the target's name).
        found_files = sorted((FINDINGS / fmt).glob("crash-*")) + \
            sorted((FINDINGS / "hangs").glob(f"{fmt}-timeout-*"))
        for found in found_files:
            error = (ModelFileError, FileNotFoundError) if fmt == "tfjs" else ModelFileError
            label = found.name.removeprefix(f"{fmt}-")
            cases.append(Case(f"{fmt}/fuzz-{label[:22]}",
                              _with(fmt, None, lambda d, f=found: f.read_bytes()), error,
                              DAMAGE_WORDS[fmt], server=False))
    return cases


def cases():
    return (_damage_cases() + _archive_cases() + _hdf5_dtype_cases() + _tfjs_cases()
            + _json_cases() + _fit_cases() + _finding_cases())
