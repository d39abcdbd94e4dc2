"""The `weightsManifest` and its binary shards: writing named arrays, reading them back.

One group holds every weight, its bytes concatenated in manifest order and cut into shards
of `shard_size` bytes (the last one shorter), as `tfjs-converter` writes them.
"""

import math
import os

import numpy as np

from webkeras.saving.tfjs import format as fmt
from webkeras.saving.tfjs import quantize as quant
from webkeras.utils import file_limits
from webkeras.utils.file_errors import ModelFileError
from webkeras.utils.file_utils import path_inside


def _tfjs_dtype(array, name):
    kind = np.asarray(array).dtype
    if kind == np.bool_:
        return "bool"
    if np.issubdtype(kind, np.integer):
        return "int32"
    if np.issubdtype(kind, np.floating):
        return "float32"
    raise ValueError(f"Weight '{name}' has dtype {kind}, which TF.js cannot store "
                     f"(it stores {sorted(fmt.WEIGHT_DTYPES)}).")


def encode(named_arrays, quantize=None):
    """(manifest weight entries, bytes) for `[(name, array), ...]`; floats optionally quantized."""
    if quantize is not None and quantize not in fmt.QUANTIZE_DTYPES:
        raise ValueError(f"`quantize` must be one of {list(fmt.QUANTIZE_DTYPES)} or None. "
                         f"Received: quantize={quantize!r}")
    specs, chunks = [], []
    for name, array in named_arrays:
        array = np.asarray(array)
        dtype = _tfjs_dtype(array, name)
        spec = {fmt.NAME_KEY: name, fmt.SHAPE_KEY: [int(d) for d in array.shape],
                fmt.DTYPE_KEY: dtype}
        if quantize is not None and dtype == "float32":
            stored, spec[fmt.QUANTIZATION_KEY] = quant.quantize(array, quantize)
        else:
            stored = array.astype(fmt.WEIGHT_DTYPES[dtype])
        specs.append(spec)
        chunks.append(np.ascontiguousarray(stored).tobytes())
    return specs, b"".join(chunks)


def write_group(directory, specs, data, shard_size=fmt.DEFAULT_SHARD_SIZE, group=1):
    """Writes `data` as shards in `directory`; returns the manifest group dict."""
    if not isinstance(shard_size, int) or shard_size <= 0:
        raise ValueError(f"`shard_size` must be a positive number of bytes. "
                         f"Received: shard_size={shard_size!r}")
    count = max(1, math.ceil(len(data) / shard_size))
    paths = []
    for i in range(count):
        path = fmt.SHARD_TEMPLATE.format(group=group, index=i + 1, count=count)
        with open(os.path.join(directory, path), "wb") as f:
            f.write(data[i * shard_size:(i + 1) * shard_size])
        paths.append(path)
    return {fmt.PATHS_KEY: paths, fmt.WEIGHTS_KEY: specs}


def _field(mapping, key, kind, where):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if not isinstance(value, kind):
        raise ValueError(f"{where}: expected field `{key}` ({kind.__name__}), "  # noqa: TRY004
                         f"found {type(value).__name__ if value is not None else 'nothing'}.")
    return value


def _spec_size(spec, source):
    shape = _field(spec, fmt.SHAPE_KEY, list, f"{source}: weight '{spec.get(fmt.NAME_KEY)}'")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValueError(f"{source}: weight '{spec.get(fmt.NAME_KEY)}' has `{fmt.SHAPE_KEY}` "
                         f"{shape}; expected non-negative integers.")
    dtype = quant.storage_dtype(spec, source)
    return math.prod(shape) * dtype.itemsize, dtype, tuple(shape)


def _read_shards(directory, paths, expected, source):
    """The shards' bytes joined, each path kept inside `directory` and every size checked
    before anything is read."""
    files = []
    for path in paths:
        full = path_inside(directory, path, f"{source} `{fmt.MANIFEST_KEY}` path")
        if not os.path.isfile(full):
            raise FileNotFoundError(f"{source} lists weight shard '{path}' in "
                                    f"`{fmt.MANIFEST_KEY}`, but {full} does not exist. Copy "
                                    "every shard next to model.json.")
        files.append((path, full, os.path.getsize(full)))
    total = sum(size for _, _, size in files)
    if total != expected:
        sizes = ", ".join(f"{p}: {size} bytes" for p, _, size in files)
        # Every shard but the last is full-sized, so the first short one is the culprit.
        first = files[0][2] if files else 0
        bad = next((p for p, _, size in files[:-1] if size != first),
                   files[-1][0] if files else "(none)")
        raise ModelFileError(f"{source}: the weights listed in `{fmt.MANIFEST_KEY}` need "
                             f"{expected} bytes, but the shards hold {total} ({sizes}); "
                             f"'{bad}' has the wrong size (truncated or from another model?).")
    blobs = []
    for _, full, _ in files:
        with open(full, "rb") as f:
            blobs.append(f.read())
    return b"".join(blobs)


def read_manifest(directory, manifest, source):
    """{name: float32/int32/bool array} for every weight in `manifest`, dequantized."""
    if not isinstance(manifest, list):
        raise ValueError(  # noqa: TRY004
            f"{source}: `{fmt.MANIFEST_KEY}` must be a list of groups, found "
            f"{type(manifest).__name__}.")
    arrays, groups, total = {}, [], 0
    for g, group in enumerate(manifest):
        where = f"{source}: `{fmt.MANIFEST_KEY}[{g}]`"
        paths = _field(group, fmt.PATHS_KEY, list, where)
        specs = _field(group, fmt.WEIGHTS_KEY, list, where)
        sized = []
        for spec in specs:
            _field(spec, fmt.NAME_KEY, str, f"{where}.{fmt.WEIGHTS_KEY}")
            sized.append((spec,) + _spec_size(spec, source))
        total += sum(s[1] for s in sized)
        groups.append((paths, sized))
    # Every declared size is known before any shard is read.
    file_limits.check("weight_bytes", total, f"{source} `{fmt.MANIFEST_KEY}`")
    for paths, sized in groups:
        data = _read_shards(directory, paths, sum(s[1] for s in sized), source)
        offset = 0
        for spec, size, dtype, shape in sized:
            stored = np.frombuffer(data, dtype, count=size // dtype.itemsize,
                                   offset=offset).reshape(shape)
            offset += size
            quantization = spec.get(fmt.QUANTIZATION_KEY)
            if quantization is not None:
                value = quant.dequantize(stored, quantization)
            else:
                value = stored.astype(stored.dtype.newbyteorder("="))
            if spec.get(fmt.DTYPE_KEY) == "bool":
                value = value.astype(bool)
            arrays[spec[fmt.NAME_KEY]] = value
    return arrays
