"""The fused recurrence: a whole sequence of an LSTM / GRU / SimpleRNN cell as one primitive
(`Backend.rnn_scan`), with one VJP for all its steps instead of a dozen recorded ops per step."""

from webkeras.backend import get_backend
from webkeras.backend.base import RECURRENT_CELLS
from webkeras.ops.array import getitem
from webkeras.ops.core import cast, convert_to_tensor, make
from webkeras.ops.tensor import Tensor


def rnn_sequence(cell, inputs, initial_states, recurrent_kernel, recurrent_bias=None,
                 mask=None, recurrent_dropout=None, go_backwards=False,
                 zero_output_for_mask=False):
    """Runs `cell` (one of RECURRENT_CELLS) over every step of `inputs`.

    inputs: (batch, steps, gates * units), the input projection with the input bias added;
    see `Backend.rnn_scan` for the rest. Differentiable with respect to inputs, the initial
    states, recurrent_kernel and recurrent_bias; mask and recurrent_dropout are constants.
    Returns (outputs (batch, steps, units) in the order the steps ran, final states list).
    """
    if cell not in RECURRENT_CELLS:
        raise ValueError(f"Unknown recurrent cell {cell!r}: expected one of {RECURRENT_CELLS}.")
    if (recurrent_bias is not None) != (cell == "gru"):
        raise ValueError("A recurrent bias goes with the 'gru' cell (reset_after=True) only; "
                         f"received {'one' if recurrent_bias is not None else 'none'} for "
                         f"{cell!r}.")
    inputs, recurrent_kernel = convert_to_tensor(inputs), convert_to_tensor(recurrent_kernel)
    states = [convert_to_tensor(s) for s in initial_states]
    expected_states = 2 if cell == "lstm" else 1
    if len(states) != expected_states:
        raise ValueError(f"The {cell!r} cell takes {expected_states} state(s), received "
                         f"{len(states)}.")
    steps = inputs.shape[1]
    tensors = [inputs, *states, recurrent_kernel]
    if recurrent_bias is not None:
        recurrent_bias = convert_to_tensor(recurrent_bias)
        tensors.append(recurrent_bias)
    backend = get_backend()
    packed, residuals = backend.rnn_scan(
        cell, inputs.data, [s.data for s in states], recurrent_kernel.data,
        None if recurrent_bias is None else recurrent_bias.data,
        None if mask is None else cast(mask, "bool").data,
        None if recurrent_dropout is None else convert_to_tensor(recurrent_dropout).data,
        bool(go_backwards), bool(zero_output_for_mask))

    def vjp(g, needs):
        n = len(states)
        wanted = (needs[0], any(needs[1:1 + n]), needs[1 + n], len(needs) > 2 + n and needs[-1])
        d_inputs, d_states, d_kernel, d_bias = backend.rnn_scan_grad(residuals, g.data, wanted)
        grads = [d_inputs, *(d_states or [None] * n), d_kernel]
        if recurrent_bias is not None:
            grads.append(d_bias)
        return tuple(None if d is None else Tensor(d, backend) for d in grads)

    out = make(packed, tensors, vjp)
    outputs = getitem(out, (slice(None), slice(0, steps)))
    return outputs, [getitem(out, (slice(None), steps + i)) for i in range(len(states))]
