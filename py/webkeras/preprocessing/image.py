"""keras.preprocessing.image: ImageDataGenerator (real-time augmentation) in NumPy.

Transforms match Keras's legacy generator: a random rotation / shift / shear / zoom is drawn
per image and applied by `affine.apply_affine_transform` (bilinear, scipy's fill modes),
then channel shift, flips and brightness; `standardize` then applies
`preprocessing_function`, `rescale` and the centring / normalisation options.
"""

import math
import warnings

import numpy as np

from webkeras.preprocessing.affine import apply_affine_transform  # noqa: F401
from webkeras.utils.py_dataset import PyDataset


class ImageDataGenerator:
    """Generates batches of augmented images (channels_last by default).

    Example:
    ```python
    datagen = keras.preprocessing.image.ImageDataGenerator(
        rescale=1 / 255, rotation_range=20, width_shift_range=0.2,
        height_shift_range=0.2, horizontal_flip=True)
    model.fit(datagen.flow(x_train, y_train, batch_size=32), epochs=5)
    ```
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None,
                 data_format=None, validation_split=0.0, interpolation_order=1,
                 dtype="float32"):
        if zca_whitening:
            raise NotImplementedError("ImageDataGenerator(zca_whitening=True) is not supported.")
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype
        self.interpolation_order = interpolation_order
        data_format = data_format or "channels_last"
        if data_format not in {"channels_last", "channels_first"}:
            raise ValueError('`data_format` should be `"channels_last"` (channel after row and '
                             'column) or `"channels_first"` (channel before row and column). '
                             f"Received: {data_format}")
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be strictly between 0 and 1. "
                             f" Received: {validation_split}")
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        if np.isscalar(zoom_range):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(np.isscalar(z) for z in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or list of two floats. "
                             f"Received: {zoom_range}")
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError("`brightness_range should be tuple or list of two floats. "
                             f"Received: {brightness_range}")
        self.brightness_range = brightness_range

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """A `PyDataset` of augmented `(x, y)` batches (or `x` batches when y is None)."""
        if save_to_dir is not None:
            raise NotImplementedError("`save_to_dir` is not supported.")
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed, subset=subset,
                                  dtype=self.dtype)

    # -- per-image transforms ---------------------------------------------------------------
    def standardize(self, x):
        """Normalisation (not augmentation) of one image or batch, in place where possible."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        if self.samplewise_center:
            x = x - np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, keepdims=True) + 1e-6)
        if self.featurewise_center:
            if self.mean is not None:
                x = x - self.mean
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it "
                              "hasn't been fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_std_normalization:
            if self.std is not None:
                x = x / (self.std + 1e-6)
            else:
                warnings.warn("This ImageDataGenerator specifies "
                              "`featurewise_std_normalization`, but it hasn't been fit on any "
                              "training data. Fit it first by calling `.fit(numpy_data)`.",
                              stacklevel=2)
        return x

    def get_random_transform(self, img_shape, seed=None, rng=None):
        """Random parameters for one image: theta, tx, ty, shear, zx, zy, flips..."""
        rng = rng or np.random.default_rng(seed)
        img_row_axis, img_col_axis = self.row_axis - 1, self.col_axis - 1
        theta = rng.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _shift(rng, self.height_shift_range, img_shape[img_row_axis], "height")
        ty = _shift(rng, self.width_shift_range, img_shape[img_col_axis], "width")
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(rng.random() < 0.5) * self.horizontal_flip
        flip_vertical = bool(rng.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = rng.uniform(-self.channel_shift_range,
                                              self.channel_shift_range) \
            if self.channel_shift_range != 0 else None
        brightness = rng.uniform(*self.brightness_range) \
            if self.brightness_range is not None else None
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x, transform_parameters):
        """Applies `get_random_transform`'s parameters to one image (no batch axis)."""
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
                                   p.get("shear", 0), p.get("zx", 1), p.get("zy", 1),
                                   row_axis=row, col_axis=col, channel_axis=channel,
                                   fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = np.rollaxis(x, channel, 0)
            low, high = np.min(x), np.max(x)
            x = np.clip(x + p["channel_shift_intensity"], low, high)
            x = np.rollaxis(x, 0, channel + 1)
        if p.get("flip_horizontal", False):
            x = np.flip(x, axis=col)
        if p.get("flip_vertical", False):
            x = np.flip(x, axis=row)
        if p.get("brightness") is not None:
            x = x * p["brightness"]
        return x

    def random_transform(self, x, seed=None):
        """One random augmentation of one image."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the per-channel mean / std that featurewise options subtract / divide by."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: "
                             f"{x.shape}")
        if augment:
            rng = np.random.default_rng(seed)
            x = np.concatenate([np.stack([self.random_transform(img, seed=rng.integers(2**31))
                                          for img in x]) for _ in range(rounds)])
        if self.rescale:
            x = x * self.rescale
        broadcast_shape = [1, 1, 1]
        broadcast_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), broadcast_shape)
            x = x - self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), broadcast_shape)


def _shift(rng, shift_range, size, name):
    if not shift_range:
        return 0
    try:
        values = list(shift_range)
        value = float(rng.choice(values))
        return value * size if abs(value) < 1 else value
    except TypeError:
        pass
    if not isinstance(shift_range, (int, float)):
        raise ValueError(f"`{name}_shift_range` should be a float, a list of values or an int.")
    value = rng.uniform(-shift_range, shift_range)
    if shift_range < 1:
        return value * size
    return value


class NumpyArrayIterator(PyDataset):
    """The `PyDataset` that `ImageDataGenerator.flow` returns: `len()` batches per epoch,
    reshuffled after each epoch."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, subset=None, dtype="float32"):
        super().__init__()
        x = np.asarray(x, dtype=dtype)
        if x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You "
                             f"passed an array with shape {x.shape}")
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same "
                             f"length. Found: x.shape = {x.shape}, y.shape = "
                             f"{np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same "
                             f"length. Found: x.shape = {x.shape}, sample_weight.shape = "
                             f"{np.asarray(sample_weight).shape}")
        y = None if y is None else np.asarray(y)
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        split = image_data_generator._validation_split
        if subset is not None:
            if subset not in {"training", "validation"}:
                raise ValueError(f"Invalid subset name: {subset}; expected 'training' or "
                                 "'validation'.")
            split_idx = int(len(x) * split)
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        channels = x.shape[image_data_generator.channel_axis]
        if channels not in {1, 3, 4}:
            warnings.warn(f"NumpyArrayIterator is set to use the data format convention "
                          f"'{image_data_generator.data_format}' but the input has {channels} "
                          "channels.", stacklevel=2)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.image_data_generator = image_data_generator
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.dtype = dtype
        self.seed = seed
        self.n = len(x)
        self._rng = np.random.default_rng(seed)
        self._set_index_array()

    def _set_index_array(self):
        self.index_array = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length "
                             f"{len(self)}")
        index = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index)

    def _get_batches_of_transformed_samples(self, index_array):
        generator = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            params = generator.get_random_transform(self.x[j].shape, rng=self._rng)
            image = generator.apply_transform(self.x[j].astype(self.dtype), params)
            batch_x[i] = generator.standardize(image)
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[index_array]
        return batch_x, self.y[index_array], self.sample_weight[index_array]

    def on_epoch_end(self):
        self._set_index_array()

    def __iter__(self):
        return self

    def __next__(self):
        """The next batch, endlessly (reshuffling after each pass), as Keras's iterator."""
        idx = getattr(self, "_next_index", 0)
        self._next_index = idx + 1
        if self._next_index >= len(self):
            self._next_index = 0
        batch = self[idx]
        if self._next_index == 0:
            self.on_epoch_end()
        return batch
