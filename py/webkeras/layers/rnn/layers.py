"""SimpleRNN, LSTM, GRU: an RNN over the matching cell, with the cell's arguments flat."""

from webkeras.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from webkeras.layers.rnn.rnn import RNN

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")
_BASE_ARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size",
              "input_dim", "activity_regularizer")


def _split_kwargs(kwargs):
    rnn = {k: kwargs.pop(k) for k in list(kwargs) if k in _RNN_ARGS + _BASE_ARGS}
    return rnn, kwargs


class _CellRNN(RNN):
    cell_class = None

    def __init__(self, units, **kwargs):
        rnn_kwargs, cell_kwargs = _split_kwargs(dict(kwargs))
        cell_kwargs.pop("use_cudnn", None)
        cell = self.cell_class(units, name=f"{_cell_name(self)}", dtype=rnn_kwargs.get("dtype"),
                               **cell_kwargs)
        super().__init__(cell, **rnn_kwargs)

    def __getattr__(self, name):
        # units, activation, dropout, ... read through to the cell, as in Keras.
        if name != "cell" and "cell" in self.__dict__ and hasattr(self.__dict__["cell"], name):
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(name)

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**config, **cell_config}


def _cell_name(layer):
    from webkeras.utils import naming

    return naming.uniquify(naming.to_snake_case(type(layer).__name__) + "_cell")


class SimpleRNN(_CellRNN):
    """Fully-connected RNN: `h_t = tanh(x_t W + h_{t-1} U + b)`."""

    cell_class = SimpleRNNCell


class LSTM(_CellRNN):
    """Long Short-Term Memory (Hochreiter 1997), Keras 3 defaults (sigmoid gates,
    unit_forget_bias=True, orthogonal recurrent kernel)."""

    cell_class = LSTMCell


class GRU(_CellRNN):
    """Gated Recurrent Unit; `reset_after=True` by default (Keras 3)."""

    cell_class = GRUCell
