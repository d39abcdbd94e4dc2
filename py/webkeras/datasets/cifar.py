"""Reading the CIFAR python-pickle archives (`cifar-10-python.tar.gz`, `cifar-100-python.tar.gz`).

The archives are read in place (no extraction): each batch is a pickle of a dict with `data`
(uint8 [N, 3072], channels first) and its label lists. They are unpickled with the restricted
unpickler, after the archive's hash was checked against Keras's pin.
"""

import tarfile

import numpy as np

from webkeras.datasets._sequences import RestrictedUnpickler


def read_batches(archive_path, members):
    """{member name: decoded dict} for the given member paths of a CIFAR tar.gz."""
    out = {}
    with tarfile.open(archive_path, "r:gz") as tar:
        for member in members:
            try:
                f = tar.extractfile(member)
            except KeyError:
                raise ValueError(
                    f"{archive_path} has no member {member!r}: not a CIFAR archive") from None
            with f:
                d = RestrictedUnpickler(f, encoding="bytes").load()
            out[member] = {k.decode("utf8") if isinstance(k, bytes) else k: v
                           for k, v in d.items()}
    return out


def load_batch(batch, label_key="labels"):
    """`(data, labels)` of one decoded batch: uint8 (N, 3, 32, 32) and the label list."""
    data = np.asarray(batch["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def to_keras_layout(x_train, y_train, x_test, y_test, data_format=None):
    """Labels as (N, 1) and images channels-last unless the data format is channels_first."""
    if data_format is None:
        data_format = _image_data_format()
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if data_format == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype), y_test.astype(y_train.dtype))


def _image_data_format():
    try:
        from webkeras.backend import image_data_format
    except ImportError:
        return "channels_last"
    return image_data_format()
