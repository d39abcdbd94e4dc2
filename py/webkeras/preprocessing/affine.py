"""Affine resampling of images in NumPy (no scipy): what ImageDataGenerator's transforms use.

`affine_transform(channel, matrix, offset)` follows `scipy.ndimage.affine_transform`: output
pixel `o` takes the input value at `matrix @ o + offset`, bilinearly interpolated (order=1)
or nearest (order=0), with scipy's `fill_mode`s 'constant', 'nearest', 'reflect', 'wrap'.
"""

import numpy as np

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def transform_matrix_offset_center(matrix, x, y):
    """Conjugates `matrix` so that it acts about the image centre."""
    o_x = float(x) / 2 - 0.5
    o_y = float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def _index(i, n, fill_mode):
    """Integer source indices -> valid indices (and a mask of the ones inside)."""
    inside = (i >= 0) & (i < n)
    if fill_mode == "reflect":
        period = 2 * n
        i = np.mod(i, period)
        i = np.where(i >= n, period - 1 - i, i)
    else:
        i = np.clip(i, 0, n - 1)
    return i, inside


def affine_transform(image, matrix, offset, order=1, fill_mode="nearest", cval=0.0):
    """Resamples one 2D channel: `out[o] = image[matrix @ o + offset]`."""
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Unknown fill_mode {fill_mode!r}; expected one of {FILL_MODES}.")
    h, w = image.shape
    rows, cols = np.meshgrid(np.arange(h, dtype="float64"), np.arange(w, dtype="float64"),
                             indexing="ij")
    src_r = matrix[0, 0] * rows + matrix[0, 1] * cols + offset[0]
    src_c = matrix[1, 0] * rows + matrix[1, 1] * cols + offset[1]
    if fill_mode == "constant":
        # As scipy's 'constant': no interpolation beyond the edges.
        eps = 1e-6
        outside = (src_r < -eps) | (src_r > h - 1 + eps) | (src_c < -eps) | (src_c > w - 1 + eps)
        src_r = np.clip(src_r, 0, h - 1)
        src_c = np.clip(src_c, 0, w - 1)
    if fill_mode == "nearest":
        src_r = np.clip(src_r, 0, h - 1)
        src_c = np.clip(src_c, 0, w - 1)
    if fill_mode == "wrap":
        # scipy's 'wrap': the last and first points overlap, so the period is n - 1.
        src_r = np.mod(src_r, max(h - 1, 1))
        src_c = np.mod(src_c, max(w - 1, 1))
    if order == 0:
        r, _ = _index(np.round(src_r).astype(int), h, fill_mode)
        c, _ = _index(np.round(src_c).astype(int), w, fill_mode)
        out = image[r, c].astype("float64")
    else:
        r0 = np.floor(src_r).astype(int)
        c0 = np.floor(src_c).astype(int)
        fr = src_r - r0
        fc = src_c - c0
        r0i, _ = _index(r0, h, fill_mode)
        r1i, _ = _index(r0 + 1, h, fill_mode)
        c0i, _ = _index(c0, w, fill_mode)
        c1i, _ = _index(c0 + 1, w, fill_mode)
        top = image[r0i, c0i] * (1 - fc) + image[r0i, c1i] * fc
        bottom = image[r1i, c0i] * (1 - fc) + image[r1i, c1i] * fc
        out = top * (1 - fr) + bottom * fr
    if fill_mode == "constant":
        out = np.where(outside, cval, out)
    return out.astype(image.dtype, copy=False)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0,
                           col_axis=1, channel_axis=2, fill_mode="nearest", cval=0.0,
                           order=1):
    """Rotation (degrees), shift (pixels), shear (degrees) and zoom of one image, as
    `keras.preprocessing.image.apply_affine_transform` does."""
    transform = None
    if theta != 0:
        t = np.deg2rad(theta)
        transform = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                              [0, 0, 1]])
    if tx != 0 or ty != 0:
        shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        transform = shift if transform is None else transform @ shift
    if shear != 0:
        s = np.deg2rad(shear)
        shear_matrix = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
        transform = shear_matrix if transform is None else transform @ shear_matrix
    if zx != 1 or zy != 1:
        zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        transform = zoom if transform is None else transform @ zoom
    if transform is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    transform = transform_matrix_offset_center(transform, h, w)
    x = np.rollaxis(x, channel_axis, 0)
    # Keras swaps the first two rows/columns so the matrix acts on (row, col) coordinates.
    if col_axis > row_axis:
        transform[:, [0, 1]] = transform[:, [1, 0]]
        transform[[0, 1]] = transform[[1, 0]]
    matrix, offset = transform[:2, :2], transform[:2, 2]
    channels = [affine_transform(c, matrix, offset, order=order, fill_mode=fill_mode,
                                 cval=cval) for c in x]
    x = np.stack(channels, axis=0)
    return np.rollaxis(x, 0, channel_axis + 1)
