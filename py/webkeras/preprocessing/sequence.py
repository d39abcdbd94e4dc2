"""keras.preprocessing.sequence (tf.keras 2's home of `pad_sequences`; Keras 3 keeps it in
keras.utils)."""

from webkeras.utils.sequence_utils import pad_sequences  # noqa: F401
