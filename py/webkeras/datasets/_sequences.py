"""Word-index sequence datasets (IMDB, Reuters): reading them and Keras's processing.

Sequences are held as a ragged pair `(values, lengths)` (int64 words; intp lengths, since
NumPy on wasm32 indexes with int32) so that Keras's per-word list comprehensions (shuffle with
the seed, start_char, index_from, maxlen filtering, num_words / skip_top with oov_char) run as
a few NumPy operations; the result is what Keras's loaders produce, element for element.

Two on-disk layouts are read:
- Keras's own (`reuters.npz`, `imdb.npz`): object arrays of lists, i.e. pickles inside the
  `.npy` members. They are unpickled with a restricted unpickler that can only rebuild NumPy
  arrays, never call anything else (the file's hash was checked before as well).
- webkeras's compact one (`imdb.npz` from `make setup`): `<key>_values` (int32, all sequences
  concatenated) and `<key>_lengths` (int32), no pickle at all.
"""

import io
import pickle
import zipfile

import numpy as np

# The only globals needed to rebuild the object arrays in Keras's .npz files and CIFAR pickles.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    # NumPy 1.x wrote numpy.core, 2.x numpy._core: both map to the module this NumPy has.
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    # Python 3 writes bytes at protocol 2 as _codecs.encode(str, "latin1"): a pure function.
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays, lists, dicts, strings and numbers; refuses every other global."""

    def find_class(self, module, name):
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(
                f"Refusing to unpickle {module}.{name} from a dataset file: only NumPy arrays "
                "are allowed. The file is corrupted or not the expected dataset."
            )
        try:
            return super().find_class(*target)
        except (ImportError, AttributeError):  # NumPy < 2 has no numpy._core
            return super().find_class(target[0].replace("._core", ".core"), name)


def load_npz(path):
    """Every array of an .npz as a dict; object arrays go through RestrictedUnpickler."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[: -len(".npy")]] = _read_npy(io.BytesIO(archive.read(member)))
    return arrays


def _read_npy(fp):
    version = np.lib.format.read_magic(fp)
    header = (np.lib.format.read_array_header_1_0 if version[0] == 1
              else np.lib.format.read_array_header_2_0)
    _, _, dtype = header(fp)
    fp.seek(0)
    if dtype.hasobject:
        np.lib.format.read_magic(fp)
        header(fp)
        return RestrictedUnpickler(fp).load()
    return np.lib.format.read_array(fp, allow_pickle=False)


# -- ragged sequences -----------------------------------------------------------------------
def ragged_from_arrays(arrays, key):
    """`(values, lengths)` of sequence set `key` (e.g. "x_train", "x") in either layout."""
    if key + "_values" in arrays:
        values = np.asarray(arrays[key + "_values"], dtype=np.int64)
        lengths = np.asarray(arrays[key + "_lengths"], dtype=np.intp)
        if lengths.sum() != len(values):
            raise ValueError(f"{key}: the lengths add up to {lengths.sum()}, not {len(values)}")
        return values, lengths
    sequences = arrays[key]
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.intp, count=len(sequences))
    values = np.fromiter((w for s in sequences for w in s), dtype=np.int64, count=lengths.sum())
    return values, lengths


def _starts(lengths):
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.intp)


def take(ragged, index):
    """The sequences at `index` (an int array), in that order."""
    values, lengths = ragged
    new_lengths = lengths[index]
    # Position k of the output reads old start of its sequence + k - new start of its sequence.
    shift = np.repeat(_starts(lengths)[index] - _starts(new_lengths), new_lengths)
    return values[np.arange(new_lengths.sum(), dtype=np.intp) + shift], new_lengths


def _prepend(ragged, first):
    values, lengths = ragged
    new_lengths = lengths + 1
    starts = _starts(new_lengths)
    out = np.empty(new_lengths.sum(), dtype=np.int64)
    is_start = np.zeros(len(out), dtype=bool)
    is_start[starts] = True
    out[is_start] = first
    out[~is_start] = values
    return out, new_lengths


def _keep_values(ragged, keep):
    values, lengths = ragged
    owner = np.repeat(np.arange(len(lengths)), lengths)
    return values[keep], np.bincount(owner[keep], minlength=len(lengths)).astype(np.intp)


def to_object_array(ragged):
    """A 1-D object array of Python int lists, as Keras's loaders return."""
    values, lengths = ragged
    out = np.empty(len(lengths), dtype=object)
    flat = values.tolist()
    position = 0
    for i, n in enumerate(lengths.tolist()):
        out[i] = flat[position:position + n]
        position += n
    return out


def keras_process(parts, seed, start_char, oov_char, index_from, maxlen, num_words, skip_top):
    """Keras's IMDB/Reuters processing on several sequence sets at once.

    Args:
        parts: list of `(ragged, labels)`; each is shuffled with one shared
            `np.random.RandomState(seed)`, in order (IMDB: train then test; Reuters: all).
        the rest: as `keras.datasets.imdb.load_data`.

    Returns:
        list of `(ragged, labels)` after shuffling, start_char / index_from, maxlen filtering
        (sequences of length >= maxlen dropped, counted with the start char) and the
        num_words / skip_top cut (words outside `[skip_top, num_words)` become `oov_char`, or
        are dropped when it is None). `num_words` defaults to the largest index over all parts.
    """
    rng = np.random.RandomState(seed)
    out = []
    for ragged, labels in parts:
        indices = np.arange(len(ragged[1]))
        rng.shuffle(indices)
        ragged, labels = take(ragged, indices), np.asarray(labels)[indices]
        if start_char is not None:
            ragged = _prepend((ragged[0] + index_from, ragged[1]), start_char)
        elif index_from:
            ragged = (ragged[0] + index_from, ragged[1])
        if maxlen:
            kept = np.flatnonzero(ragged[1] < maxlen)
            ragged, labels = take(ragged, kept), labels[kept]
        out.append((ragged, labels))
    if not num_words:
        num_words = max(int(r[0].max()) for r, _ in out if len(r[0]))
    result = []
    for (values, lengths), labels in out:
        inside = (values >= skip_top) & (values < num_words)
        if oov_char is not None:
            ragged = (np.where(inside, values, oov_char), lengths)
        else:
            ragged = _keep_values((values, lengths), inside)
        result.append((ragged, labels))
    return result
