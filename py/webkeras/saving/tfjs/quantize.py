"""TF.js weight quantization: affine uint8 / uint16 and float16, and dequantization.

Affine: `value = q * scale + min`, one (min, scale) per weight, as `tf.io.decodeWeights`
reads it. When the range straddles zero, `min` is nudged to a multiple of `scale` so that
0.0 is stored exactly (zero biases and padding stay zero); error is at most `scale / 2`.
"""

import numpy as np

from webkeras.saving.tfjs import format as fmt


def quantize(values, dtype):
    """(stored array, quantization dict) for float32 `values` quantized to `dtype`."""
    values = np.asarray(values, dtype=np.float32)
    if dtype == fmt.FLOAT16:
        return values.astype(fmt.QUANTIZED_STORAGE[dtype]), {fmt.QUANT_DTYPE_KEY: dtype}
    if dtype not in fmt.AFFINE_DTYPES:
        raise ValueError(f"Unknown quantization dtype {dtype!r}; expected one of "
                         f"{list(fmt.QUANTIZE_DTYPES)}.")
    storage = np.dtype(fmt.QUANTIZED_STORAGE[dtype])
    quant_max = np.iinfo(storage).max
    low = float(values.min()) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    if high == low:
        stored = np.zeros(values.shape, storage)
        return stored, {fmt.QUANT_DTYPE_KEY: dtype, fmt.QUANT_MIN_KEY: low,
                        fmt.QUANT_SCALE_KEY: 1.0}
    scale = (high - low) / quant_max
    if low < 0.0 < high:
        low = round(low / scale) * scale
    codes = np.round((values.astype(np.float64) - low) / scale)
    stored = np.clip(codes, 0, quant_max).astype(storage)
    return stored, {fmt.QUANT_DTYPE_KEY: dtype, fmt.QUANT_MIN_KEY: low,
                    fmt.QUANT_SCALE_KEY: scale}


def dequantize(stored, quantization):
    """float32 values from `stored` codes and a manifest `quantization` dict."""
    dtype = quantization[fmt.QUANT_DTYPE_KEY]
    if dtype == fmt.FLOAT16:
        return stored.astype(np.float32)
    scale = float(quantization[fmt.QUANT_SCALE_KEY])
    low = float(quantization[fmt.QUANT_MIN_KEY])
    return (stored.astype(np.float32) * np.float32(scale) + np.float32(low)).astype(np.float32)


def _check_affine(quantization, where):
    """Refuses a scale or min that would turn every weight into NaN, a constant or its
    mirror image (NaN/Inf weights themselves are data, loaded as stored)."""
    for key in (fmt.QUANT_SCALE_KEY, fmt.QUANT_MIN_KEY):
        value = quantization[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not np.isfinite(value) or (key == fmt.QUANT_SCALE_KEY and value <= 0):
            expected = "a positive finite number" if key == fmt.QUANT_SCALE_KEY else \
                "a finite number"
            raise ValueError(f"{where} has `{fmt.QUANTIZATION_KEY}.{key}`={value!r}; expected "
                             f"{expected}.")


def storage_dtype(spec, source):
    """The numpy dtype a manifest entry's bytes are stored in."""
    quantization = spec.get(fmt.QUANTIZATION_KEY)
    if quantization is not None:
        dtype = quantization.get(fmt.QUANT_DTYPE_KEY) if isinstance(quantization, dict) else None
        if dtype not in fmt.QUANTIZED_STORAGE:
            raise ValueError(f"{source}: weight '{spec.get(fmt.NAME_KEY)}' has "
                             f"`{fmt.QUANTIZATION_KEY}.{fmt.QUANT_DTYPE_KEY}`={dtype!r}; "
                             f"expected one of {list(fmt.QUANTIZE_DTYPES)}.")
        if dtype in fmt.AFFINE_DTYPES and not (fmt.QUANT_MIN_KEY in quantization
                                               and fmt.QUANT_SCALE_KEY in quantization):
            raise ValueError(f"{source}: weight '{spec.get(fmt.NAME_KEY)}' is quantized to "
                             f"{dtype} but its `{fmt.QUANTIZATION_KEY}` lacks "
                             f"'{fmt.QUANT_MIN_KEY}' / '{fmt.QUANT_SCALE_KEY}'.")
        if dtype in fmt.AFFINE_DTYPES:
            _check_affine(quantization, f"{source}: weight '{spec.get(fmt.NAME_KEY)}'")
        return np.dtype(fmt.QUANTIZED_STORAGE[dtype])
    dtype = spec.get(fmt.DTYPE_KEY, "float32")
    if dtype not in fmt.WEIGHT_DTYPES:
        raise ValueError(f"{source}: weight '{spec.get(fmt.NAME_KEY)}' has "
                         f"`{fmt.DTYPE_KEY}`={dtype!r}; webkeras reads "
                         f"{sorted(fmt.WEIGHT_DTYPES)}.")
    return np.dtype(fmt.WEIGHT_DTYPES[dtype])
