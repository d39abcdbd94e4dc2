"""Callbacks: the Callback base with every hook, History and the terminal progress bar."""

from webkeras.callbacks.callback import Callback, CallbackList  # noqa: F401
from webkeras.callbacks.history import History  # noqa: F401
from webkeras.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
