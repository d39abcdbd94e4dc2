"""keras.saving: `.keras` zips, legacy `.h5`, `.weights.h5`, and custom-object lookup."""

# ruff: noqa: F401  (re-exports)
from webkeras.saving.object_registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from webkeras.saving.saving_api import load_model, save_model
from webkeras.saving.serialization_lib import (
    deserialize_keras_object,
    serialize_keras_object,
)
from webkeras.saving.weights_h5 import load_weights, save_weights
from webkeras.utils.file_errors import (
    FileLimitError,
    ModelFileError,
    UnknownObjectError,
    UnsafeContentError,
)
