"""keras.data: a small `tf.data`-style input pipeline over NumPy arrays.

`Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32).repeat()` works as in tf.data,
and a Dataset can be passed straight to `fit`, `evaluate` and `predict`.
"""

from webkeras.data.dataset import (  # noqa: F401
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Dataset,
)
