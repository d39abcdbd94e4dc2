"""`pad_sequences`: variable-length sequences padded to one length (keras.utils; tf.keras 2
had it in keras.preprocessing.sequence)."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads sequences to the same length (Keras semantics exactly).

    Args:
        sequences: list of sequences (each a list of numbers, or of equal-shape arrays).
        maxlen: the output length; defaults to the longest sequence.
        dtype: the output dtype (use `object` for variable-length strings).
        padding: "pre" or "post": pad before or after each sequence.
        truncating: "pre" or "post": drop values from the start or the end of sequences
            longer than `maxlen`.
        value: the padding value.

    Returns:
        NumPy array of shape `(len(sequences), maxlen) + sample_shape`.

    Example:
    ```python
    >>> pad_sequences([[1, 2, 3], [4, 5], [6]], maxlen=2)
    array([[2, 3],
           [4, 5],
           [0, 6]], dtype=int32)
    ```
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    num_samples = len(sequences)
    lengths = []
    sample_shape = ()
    found_sample = False
    for x in sequences:
        try:
            lengths.append(len(x))
            if not found_sample and len(x):
                sample_shape = np.asarray(x).shape[1:]
                found_sample = True
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {str(x)}") from e
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        if truncating == "pre":
            trunc = s[-maxlen:]
        elif truncating == "post":
            trunc = s[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        elif padding == "pre":
            x[idx, -len(trunc):] = trunc
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return x
