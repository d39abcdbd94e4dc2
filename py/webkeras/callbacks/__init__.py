"""keras.callbacks: hooks into fit/evaluate/predict, and the Keras 3 built-in callbacks."""

from webkeras.callbacks.callback import Callback  # noqa: F401
from webkeras.callbacks.callback_list import CallbackList  # noqa: F401
from webkeras.callbacks.csv_logger import CSVLogger  # noqa: F401
from webkeras.callbacks.early_stopping import EarlyStopping  # noqa: F401
from webkeras.callbacks.history import History  # noqa: F401
from webkeras.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from webkeras.callbacks.learning_rate_scheduler import LearningRateScheduler  # noqa: F401
from webkeras.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from webkeras.callbacks.progbar_logger import ProgbarLogger  # noqa: F401
from webkeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau  # noqa: F401
from webkeras.callbacks.tensorboard import TensorBoard  # noqa: F401
from webkeras.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
