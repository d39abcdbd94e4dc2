"""keras.preprocessing: `sequence.pad_sequences` and `image.ImageDataGenerator`."""

from webkeras.preprocessing import image, sequence  # noqa: F401
