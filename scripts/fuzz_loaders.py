"""Coverage-guided fuzzing of webkeras's model-file loaders with atheris (libFuzzer).

    .venv-fuzz/bin/python scripts/fuzz_loaders.py TARGET SECONDS     (or `make fuzz`)

TARGET is one of: keras (`load_model` on a `.keras` zip), h5 (legacy `.h5`), weights.h5
(`load_weights`), tfjs (`load_tfjs` on a model.json beside the model's real shard), json
(`model_from_json`), yaml (`model_from_yaml`). Each input is the bytes of that one file. The
seeds are the hostile corpus's files of the format (tests/hostile_corpus.py) and a pristine
model; inputs libFuzzer finds interesting are kept in .cache/fuzz/TARGET/.

Any exception outside the ModelFileError family (and FileNotFoundError for a shard the
model.json names) is a crash: libFuzzer saves the input under tests/fuzz_findings/TARGET/,
where the hostile corpus picks it up as a case that must be refused cleanly.

The limits on declared sizes are lowered to 64 MiB while fuzzing, so that a mutated size
field answers with FileLimitError at once instead of allocating gigabytes legally.
"""

import sys
import tempfile
import warnings
from pathlib import Path

import atheris
import h5py  # noqa: F401  (imported before instrumentation: C code, not traced)
import numpy as np  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "tests"), str(REPO_ROOT / "py")]
TARGETS = ("keras", "h5", "weights.h5", "tfjs", "json", "yaml")
FILE_NAMES = {"keras": "m.keras", "h5": "m.h5", "weights.h5": "m.weights.h5",
              "tfjs": "model.json", "json": "model.json", "yaml": "model.yaml"}
FUZZ_LIMITS = {"weight_bytes": 64 * 1024 ** 2, "array_bytes": 64 * 1024 ** 2,
               "member_bytes": 64 * 1024 ** 2, "unpacked_bytes": 64 * 1024 ** 2,
               "config_bytes": 8 * 1024 ** 2, "layers": 2_000}

with atheris.instrument_imports(include=["webkeras"]):
    import webkeras as keras
    from webkeras.saving import tfjs
    from webkeras.utils import file_limits
    from webkeras.utils.file_errors import ModelFileError


def write_seeds(target, folder):
    """The corpus's files of `target`'s format (and a pristine model) into `folder`."""
    import hostile_corpus
    import hostile_damage

    folder.mkdir(parents=True, exist_ok=True)
    files = [hostile_damage._pristine(target)]
    with tempfile.TemporaryDirectory() as tmp:
        context = hostile_corpus.Context(tmp)
        for case in hostile_corpus.CASES.values():
            if case.fmt == target and case.run is None and case.name != "keras/weights-bomb" \
                    and "inflating" not in case.name and "many-layers" not in case.name:
                files.append(case.build(context))
    for n, case_files in enumerate(files):
        name = FILE_NAMES[target] if target != "tfjs" else "model.json"
        data = case_files.get(name) or next(iter(case_files.values()))
        (folder / f"seed-{n:03d}").write_bytes(data)


def make_target(target, work):
    """The function libFuzzer calls with each input."""
    import hostile_damage

    pristine = hostile_damage._pristine(target)
    path = work / FILE_NAMES[target]
    for name, data in pristine.items():
        if name != next(iter(pristine)):
            (work / name).write_bytes(data)
    architecture = pristine.get("config.json")
    allowed = (ModelFileError, FileNotFoundError) if target == "tfjs" else (ModelFileError,)

    def load(data):
        if target == "json":
            return keras.models.model_from_json(data)
        if target == "yaml":
            return keras.models.model_from_yaml(data)
        return _load_path(data)

    def _load_path(data):
        path.write_bytes(data)
        if target == "weights.h5":
            model = keras.models.model_from_json(architecture)
            model.load_weights(path)
            return model
        if target == "tfjs":
            return tfjs.load_tfjs(work)
        return keras.saving.load_model(path)

    def one_input(data):
        with warnings.catch_warnings(), file_limits.override(**FUZZ_LIMITS):
            warnings.simplefilter("ignore")
            try:
                load(data)
            except allowed:
                pass

    return one_input


def main():
    target, seconds = sys.argv[1], int(sys.argv[2])
    if target not in TARGETS:
        sys.exit(f"unknown target {target!r}; expected one of {TARGETS}")
    cache = REPO_ROOT / ".cache" / "fuzz" / target
    seeds, corpus = cache / "seeds", cache / "corpus"
    findings = REPO_ROOT / "tests" / "fuzz_findings" / target
    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)
    write_seeds(target, seeds)
    # Where each input is written to be loaded (libFuzzer exits without cleaning up).
    work = cache / "work"
    work.mkdir(exist_ok=True)
    args = [sys.argv[0], str(corpus), str(seeds), f"-max_total_time={seconds}",
            "-timeout=10", "-rss_limit_mb=3072", "-max_len=262144",
            f"-artifact_prefix={findings}/", "-print_final_stats=1"]
    atheris.Setup(args, make_target(target, work))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
