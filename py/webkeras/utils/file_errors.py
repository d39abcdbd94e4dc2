"""The one family of errors webkeras raises for a model or weights file it will not read.

Every loader (`load_model`, `load_weights`, `model_from_json` / `model_from_yaml`,
`load_tfjs`, the HDF5 readers) and the conversion server raise these for bad input, and each
message names the file, the field, and the rule or limit with how to change it:

    ModelFileError            damaged, malformed or unsupported content (a ValueError)
    ├── FileLimitError        over a size, depth, count or time limit (see `file_limits`)
    ├── UnsafeContentError    content that reaches outside the file: HDF5 external storage,
    │                         external or soft links, virtual datasets, paths leaving the
    │                         model's folder, functions safe mode does not resolve
    └── UnknownObjectError    a class or function the file names that nothing registers
                              (also a TypeError, as Keras 3 raises for unknown classes)

A file that is not there (the model, or a weight shard its model.json lists) stays Python's
FileNotFoundError.

Example:
```python
try:
    model = keras.saving.load_model(path)
except keras.saving.ModelFileError as error:
    print("not loaded:", error)
```
"""

import contextlib


class ModelFileError(ValueError):
    """A model or weights file webkeras refuses to read; the message says why."""


class FileLimitError(ModelFileError):
    """A file declares more than a limit allows (bytes, nesting depth, layers, time).

    `finding` is the message without the advice on raising the limit, for a server whose
    users cannot change its limits.
    """

    def __init__(self, message, finding=None):
        super().__init__(message)
        self.finding = finding or message


def message_for_service(error):
    """`error`'s message as a service shows it to people who cannot change its limits."""
    if isinstance(error, FileLimitError):
        return f"{error.finding} (a limit of this service)"
    return str(error)


class UnsafeContentError(ModelFileError):
    """A file asks to read, write or run something beyond itself."""


class UnknownObjectError(ModelFileError, TypeError):
    """A file names a class or function that is neither built in nor registered."""


# What parsers and h5py raise on damaged bytes, besides ModelFileError; loaders turn these into
# ModelFileError with the file's name (never a bare RecursionError or KeyError to the caller).
# SyntaxError: NumPy's parser of comma-string dtypes ("float32,(") on a damaged dtype name.
RAW_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OSError,
              OverflowError, UnicodeError, RecursionError, MemoryError, EOFError,
              NotImplementedError, SyntaxError)


@contextlib.contextmanager
def reading(source):
    """Within the block, an error a reader raised on a bad `source` (one of RAW_ERRORS) becomes
    a ModelFileError naming it: `with file_errors.reading("'model.keras'"): ...`."""
    try:
        yield
    except RAW_ERRORS as error:
        raise as_model_file_error(error, source) from None


def as_model_file_error(error, source):
    """`error` as a ModelFileError whose message names `source` (already one: unchanged).

    Args:
        error: the exception a loader caught.
        source: the file, e.g. "'model.keras'", for the message.
    """
    if isinstance(error, (ModelFileError, FileNotFoundError)):
        return error
    if isinstance(error, RecursionError):
        return FileLimitError(
            f"{source}: its structure nests too deeply to read (a crafted file, or one far "
            "deeper than any real model).")
    if isinstance(error, MemoryError):
        return FileLimitError(f"{source}: not enough memory to read it (it declares more "
                              "than this machine can hold).")
    if isinstance(error, KeyError):
        return ModelFileError(f"{source}: malformed content, missing key {error}.")
    text = str(error) or type(error).__name__
    if source not in text:
        text = f"{source}: {text}"
    if isinstance(error, TypeError) and not isinstance(error, ValueError):
        return UnknownObjectError(text) if "custom_objects" in text else ModelFileError(text)
    if isinstance(error, (ValueError, OSError)):
        return ModelFileError(text)
    return ModelFileError(f"{text} ({type(error).__name__})")
