"""Names in a TF.js layers-model directory: file names and the keys of `model.json`.

The layout is TF.js's (`tfjs-converter` / `tf.io`): `model.json` holds the Keras topology
and a `weightsManifest`; weight bytes sit in binary shards next to it.
"""

MODEL_JSON = "model.json"
SHARD_TEMPLATE = "group{group}-shard{index}of{count}.bin"
DEFAULT_SHARD_SIZE = 4 * 1024 * 1024

# model.json keys
FORMAT_KEY = "format"
LAYERS_MODEL_FORMAT = "layers-model"
GENERATED_BY_KEY = "generatedBy"
CONVERTED_BY_KEY = "convertedBy"
TOPOLOGY_KEY = "modelTopology"
MANIFEST_KEY = "weightsManifest"

# modelTopology keys (tf.keras 2's `model.to_json()` plus version fields)
KERAS_VERSION_KEY = "keras_version"
BACKEND_KEY = "backend"
MODEL_CONFIG_KEY = "model_config"
TFJS_BACKEND = "tensor_flow.js"

# weightsManifest keys
PATHS_KEY = "paths"
WEIGHTS_KEY = "weights"
NAME_KEY = "name"
SHAPE_KEY = "shape"
DTYPE_KEY = "dtype"
QUANTIZATION_KEY = "quantization"
QUANT_MIN_KEY = "min"
QUANT_SCALE_KEY = "scale"
QUANT_DTYPE_KEY = "dtype"

# Quantization dtypes TF.js decodes (`tf.io.decodeWeights`).
UINT8 = "uint8"
UINT16 = "uint16"
FLOAT16 = "float16"
QUANTIZE_DTYPES = (UINT8, UINT16, FLOAT16)
AFFINE_DTYPES = (UINT8, UINT16)

# Weight dtypes stored in shards, little-endian as TF.js reads them.
WEIGHT_DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "|u1"}
QUANTIZED_STORAGE = {UINT8: "|u1", UINT16: "<u2", FLOAT16: "<f2"}
