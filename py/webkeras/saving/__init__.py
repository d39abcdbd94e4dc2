"""keras.saving: `.keras` zips, legacy `.h5`, `.weights.h5`, and custom-object lookup."""

# ruff: noqa: F401  (re-exports)
from webkeras.models import file_io
from webkeras.saving import saving_api
from webkeras.saving.saving_api import load_model, save_model
from webkeras.saving.weights_h5 import load_weights, save_weights
from webkeras.utils.file_errors import (
    FileLimitError,
    ModelFileError,
    UnknownObjectError,
    UnsafeContentError,
)
from webkeras.utils.object_registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from webkeras.utils.serialization_lib import (
    deserialize_keras_object,
    serialize_keras_object,
)

# Model.save / save_weights / load_weights call these (models cannot import saving).
file_io.provide(saving_api)
